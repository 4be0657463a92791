import {
  Badge, Button, makeStyles, NavDrawer, NavDrawerBody, NavItem, NavSectionHeader, Spinner, Switch, Text, tokens,
} from '@fluentui/react-components';
import { Suspense, type ReactNode } from 'react';
import { useSession } from '../auth/session.tsx';
import { CONSOLE_BASE, navigate, useRoute } from '../router.tsx';
import { AREAS, areaOf, type Area } from '../routes.tsx';

const useStyles = makeStyles({
  root: { display: 'grid', gridTemplateRows: 'auto 1fr', gridTemplateColumns: '260px minmax(0, 1fr)', minHeight: '100vh', backgroundColor: tokens.colorNeutralBackground2 },
  top: {
    gridColumn: '1 / 3', display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalM, padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalL}`,
    backgroundColor: tokens.colorBrandBackground, color: tokens.colorNeutralForegroundOnBrand,
  },
  product: { fontWeight: tokens.fontWeightSemibold, fontSize: tokens.fontSizeBase400, marginRight: 'auto' },
  onBrand: { color: tokens.colorNeutralForegroundOnBrand },
  // Fluent's inline NavDrawer is 260px wide on colorNeutralBackground4: its column matches both, so the drawer never
  // covers the content and its colour runs the page's whole height while the drawer itself stays in view.
  navColumn: { backgroundColor: tokens.colorNeutralBackground4 },
  nav: { position: 'sticky', top: 0, maxHeight: '100vh', width: '260px' },
  main: { padding: tokens.spacingHorizontalXXL, minWidth: 0, backgroundColor: tokens.colorNeutralBackground1, overflowX: 'auto' },
  skip: {
    position: 'absolute', left: '-10000px', top: 'auto', width: '1px', height: '1px', overflow: 'hidden',
    ':focus': { left: tokens.spacingHorizontalM, top: tokens.spacingVerticalM, width: 'auto', height: 'auto', zIndex: 1000, padding: tokens.spacingHorizontalS, backgroundColor: tokens.colorNeutralBackground1, color: tokens.colorNeutralForeground1 },
  },
});

const SECTIONS: readonly Area['section'][] = ['Overview', 'Manage', 'Users and apps', 'Tenant'];

/** The frame of every page: a skip link, the top bar (who is signed in, with which role, the theme), navigation, content. */
export function AppShell({ dark, onDarkChange }: { dark: boolean; onDarkChange: (dark: boolean) => void }) {
  const styles = useStyles();
  const session = useSession();
  const route = useRoute();
  const area = areaOf(route.path);
  const Page = area?.page;
  return (
    <div className={styles.root}>
      <a className={styles.skip} href="#content">Skip to content</a>
      <header className={styles.top}>
        <Text className={styles.product}>OpenMAM</Text>
        <Switch className={styles.onBrand} checked={dark} onChange={(_, data) => onDarkChange(data.checked)} label={<span className={styles.onBrand}>Dark theme</span>} />
        <Text className={styles.onBrand} aria-label="Signed in as">{session.user.upn}</Text>
        <Badge appearance="tint" color={session.canWrite ? 'brand' : 'informative'}>{session.canWrite ? 'Admin' : 'Read only'}</Badge>
        <Button appearance="secondary" size="small" onClick={session.signOut}>Sign out</Button>
      </header>
      <div className={styles.navColumn}>
        <NavDrawer open type="inline" className={styles.nav} selectedValue={area?.path ?? ''} aria-label="Console areas">
          <NavDrawerBody>
            {SECTIONS.map((section) => (
              <Section key={section} title={section} areas={AREAS.filter((a) => a.section === section)} />
            ))}
          </NavDrawerBody>
        </NavDrawer>
      </div>
      <main id="content" className={styles.main} tabIndex={-1}>
        <Suspense fallback={<Spinner label="Loading page" />}>{Page ? <Page /> : <NotFound />}</Suspense>
      </main>
    </div>
  );
}

function Section({ title, areas }: { title: string; areas: readonly Area[] }): ReactNode {
  return (
    <>
      <NavSectionHeader>{title}</NavSectionHeader>
      {areas.map((area) => (
        <NavItem key={area.path} value={area.path} href={`${CONSOLE_BASE}${area.path === '/' ? '/' : area.path}`}
          onClick={(event) => { event.preventDefault(); navigate(area.path); }}>
          {area.title}
        </NavItem>
      ))}
    </>
  );
}

function NotFound() {
  return <Text as="h1" size={600}>This page does not exist.</Text>;
}
