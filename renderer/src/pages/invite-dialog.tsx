/**
 * "Invite a member" (the Cluster page) and "Enroll" (a router's page): the one-time tokens an
 * admin hands to another machine, minted and shown once by TokenDialog.
 */
import { TokenDialog, type TokenDialogText } from './token-dialog.js';

const MEMBER: TokenDialogText = {
  id: 'invite',
  title: 'Invite a member',
  intro: (
    <p>
      A join token lets one new controller join this cluster: it names this node, the cluster and its CA’s
      fingerprint, so the new node trusts nothing else.
    </p>
  ),
  tokenLabel: 'Join token',
  createLabel: 'Create join token',
  instructions: (
    <>
      <p>
        On the new machine, paste it into the desktop app’s setup page, or start the node with it in the
        environment (not on the command line, which other local users can read):
      </p>
      <pre className="mono small">MESHDESK_JOIN_TOKEN=… meshdesk start</pre>
    </>
  ),
};

export function InviteDialog(props: { open: boolean; onClose: () => void; onInvited: () => void }) {
  return (
    <TokenDialog
      open={props.open}
      onClose={props.onClose}
      onMinted={props.onInvited}
      text={MEMBER}
      mint={async (api, minutes) => (await api.invite(minutes)).body}
    />
  );
}

export function RouterEnrollDialog(props: {
  open: boolean;
  onClose: () => void;
  onMinted: () => void;
  router: { readonly id: string; readonly name: string };
}) {
  const text: TokenDialogText = {
    id: 'enroll',
    title: `Enroll router ${props.router.name}`,
    intro: (
      <p>
        An enrollment token lets this router get a key and a certificate of its own from the cluster CA.
        Enrolling again revokes the certificate it has now: the router drops off until it uses the new token.
      </p>
    ),
    tokenLabel: 'Enrollment token',
    createLabel: 'Create enrollment token',
    instructions: (
      <>
        <p>On the router’s machine, save it to a file (here router.token) and run:</p>
        <pre className="mono small">
          meshdesk router enroll --token-file router.token --out router.json{'\n'}meshdesk router --identity
          router.json
        </pre>
      </>
    ),
  };
  return (
    <TokenDialog
      open={props.open}
      onClose={props.onClose}
      onMinted={props.onMinted}
      text={text}
      mint={async (api, minutes) => (await api.enrollRouter(props.router.id, minutes)).body}
    />
  );
}
