import { Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, DialogTrigger, type ButtonProps } from '@fluentui/react-components';
import { useState, type ReactNode } from 'react';
import { useSession } from '../auth/session.tsx';
import { ErrorBar } from './ErrorBar.tsx';

/**
 * A destructive action (delete, wipe, block, retire): nothing happens until the admin confirms in a dialog that says
 * what will happen. Hidden for a Reader.
 */
export function ConfirmButton({ label, title, children, confirmLabel, onConfirm, icon, appearance = 'secondary', disabled }: {
  label: string;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<unknown>;
  icon?: ButtonProps['icon'];
  appearance?: ButtonProps['appearance'];
  disabled?: boolean;
}) {
  const { canWrite } = useSession();
  const [open, setOpen] = useState(false);
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  if (!canWrite) return null;
  const confirm = async () => {
    setPending(true);
    setError(undefined);
    try {
      await onConfirm();
      setOpen(false);
    } catch (failure) {
      setError(failure);
    } finally {
      setPending(false);
    }
  };
  return (
    <Dialog open={open} onOpenChange={(_, data) => { setOpen(data.open); if (!data.open) setError(undefined); }} modalType="alert">
      <DialogTrigger disableButtonEnhancement>
        <Button appearance={appearance} icon={icon} disabled={disabled}>{label}</Button>
      </DialogTrigger>
      <DialogSurface>
        <DialogBody>
          <DialogTitle>{title}</DialogTitle>
          <DialogContent>
            {children}
            <ErrorBar error={error} />
          </DialogContent>
          <DialogActions>
            <DialogTrigger disableButtonEnhancement>
              <Button appearance="secondary" disabled={pending}>Cancel</Button>
            </DialogTrigger>
            <Button appearance="primary" onClick={() => void confirm()} disabled={pending}>{pending ? 'Working…' : confirmLabel}</Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
