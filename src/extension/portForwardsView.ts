// VS Code side of PortForwards: input box, messages, browser, and a status bar item listing the
// forwards this window holds (click: stop one). Sets `ec2Runner.forwarding` for the palette.
import * as vscode from 'vscode';
import type { ActiveForward, ForwardUi } from './portForwards';

export function portForwardsUi(): ForwardUi & vscode.Disposable {
  const item = vscode.window.createStatusBarItem('ec2Runner.portForwards', vscode.StatusBarAlignment.Left, 40);
  item.name = 'EC2 Runner Port Forwarding';
  item.command = 'ec2Runner.stopPortForwarding';
  return {
    askPort: (title, validate) =>
      Promise.resolve(
        vscode.window.showInputBox({
          title,
          prompt: 'e.g. 8888 (Jupyter), 6006 (TensorBoard) or 8888:9999 to choose the local port',
          validateInput: validate,
        }),
      ),
    inform: (text, ...actions) => Promise.resolve(vscode.window.showInformationMessage(text, ...actions)),
    warn: (text) => void vscode.window.showWarningMessage(text),
    pick: async (items, title) => (await vscode.window.showQuickPick(items, { title }))?.forward,
    openExternal: async (url) => {
      await vscode.env.openExternal(vscode.Uri.parse(url));
    },
    changed(forwards: readonly ActiveForward[]) {
      void vscode.commands.executeCommand('setContext', 'ec2Runner.forwarding', forwards.length > 0);
      if (forwards.length === 0) {
        item.hide();
        return;
      }
      const what = forwards.length === 1 ? `localhost:${forwards[0].localPort}` : `${forwards.length} ports`;
      item.text = `$(plug) ${what}`;
      const rows = forwards.map((f) => `${f.url} → ${f.target.name ?? f.target.instanceId} port ${f.remotePort}`);
      item.tooltip = `Forwarded through Session Manager (click to stop one):\n${rows.join('\n')}`;
      item.show();
    },
    dispose: () => item.dispose(),
  };
}
