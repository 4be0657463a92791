import { makeStyles, Text, Title2, tokens } from '@fluentui/react-components';
import { useEffect, type ReactNode } from 'react';

const useStyles = makeStyles({
  header: { display: 'flex', alignItems: 'flex-start', justifyContent: 'space-between', gap: tokens.spacingHorizontalL, marginBottom: tokens.spacingVerticalL },
  titles: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS },
  actions: { display: 'flex', gap: tokens.spacingHorizontalS, flexWrap: 'wrap' },
});

/** A page's one h1, its description and its actions; it also names the browser tab. */
export function PageHeader({ title, description, actions }: { title: string; description?: ReactNode; actions?: ReactNode }) {
  const styles = useStyles();
  useEffect(() => {
    document.title = `${title} · OpenMAM`;
  }, [title]);
  return (
    <header className={styles.header}>
      <div className={styles.titles}>
        <Title2 as="h1">{title}</Title2>
        {description ? <Text>{description}</Text> : null}
      </div>
      {actions ? <div className={styles.actions}>{actions}</div> : null}
    </header>
  );
}
