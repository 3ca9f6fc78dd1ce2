// Builds project folders for tests in a temp dir: files from a map, and a tiny wheel made at test
// time (a wheel is a zip with the package, METADATA, WHEEL and RECORD), so no network and no binary
// in the repository.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after } from 'node:test';

/** A fresh temp folder, removed after the test file. */
export function tempDir(prefix = 'ec2r-project-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function writeTree(root: string, files: Record<string, string | Uint8Array>): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const WHEEL_BUILDER = String.raw`
import base64, hashlib, sys, zipfile
out, name, version, body = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
dist = "%s-%s.dist-info" % (name, version)
files = {
    "%s/__init__.py" % name: body,
    dist + "/METADATA": "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version),
    dist + "/WHEEL": "Wheel-Version: 1.0\nGenerator: ec2-runner-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
def digest(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
record = "".join("%s,%s,%d\n" % (path, digest(text.encode()), len(text.encode())) for path, text in files.items())
files[dist + "/RECORD"] = record + dist + "/RECORD,,\n"
with zipfile.ZipFile(out, "w") as wheel:
    for path, text in files.items():
        wheel.writestr(path, text)
`;

/** Writes `<dir>/<name>-<version>-py3-none-any.whl` whose module source is `body`. */
export function buildWheel(dir: string, name: string, version: string, body: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}-${version}-py3-none-any.whl`);
  execFileSync('python3', ['-c', WHEEL_BUILDER, path, name, version, body]);
  return path;
}
