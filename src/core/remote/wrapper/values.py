# The wrapper's settings: the values the client owns, then the wrapper's own.
import base64, json, re

# The client's values (src/core/defaults.ts, remote/chunkKeys.ts, remote/fallbackScript.ts): when it packs
# this program, wrapperProgram.ts replaces each line from SPEC_BASE64 to VENV_FALLBACK_ROOT with its own value.
# The values written here are the same (a unit test compares them): the wrapper's own tests run with them.
SPEC_BASE64 = ""  # the run spec, base64 of JSON (commandText.ts); empty when imported by the unit tests
AGENT_REBOOT_CODE = 194
REBOOT_CODE_REPORTED_AS = 195
REBOOT_NOTE = "ec2-runner: the script exited 194, which the SSM agent takes as a reboot request; reported to SSM as 195"
S3_FIRST_CONTACT_SECONDS = 3
S3_DOWNLOAD_FIRST_CONTACT_SECONDS = 5
LEFTOVER_GRACE_SECONDS = 2
INSTANCE_ID_PATTERN = r"^m?i-[0-9a-f]{8,17}$"
ARTIFACTS_MAX_BYTES = 8388608
ARTIFACTS_MAX_FILES = 10000
VENV_HOME_SUBDIR = b".cache/ec2-runner/venvs"
VENV_FALLBACK_ROOT = b"/var/tmp/ec2-runner/venvs"

SPEC = json.loads(base64.b64decode(SPEC_BASE64).decode("utf-8")) if SPEC_BASE64 else {}
INSTANCE_ID = re.compile(INSTANCE_ID_PATTERN)
FLUSH_SECONDS = 0.2
FIRST_FLUSH_SECONDS = 0.05  # the start frame waits this long for the first output, to share one object with it
FIRST_OUTPUT_GATHER_SECONDS = 0.02  # the first output waits this long for more (a short script's end and exit frame)
HOLD_AFTER_EXIT_SECONDS = 0.5  # once a child has exited, output waits up to this long for the exit frame that follows
FLUSH_BYTES = 1 << 20
UPLOAD_GAP = float(SPEC.get("uploadGap") or 0.2)  # seconds per upload of continuous output, chosen by the client
UPLOAD_BURST = 3
OBJECT_BYTES = 8 << 20  # well below the POST policy's 16 MiB per object
MAX_PENDING_BYTES = 64 << 20  # beyond this, stop reading (the script blocks) instead of growing memory
RESULT_LIMIT_BYTES = 6 << 20
READ_BYTES = 65536
DRAIN_AFTER_EXIT_SECONDS = 2.0  # a background process may keep the pipes open after the script exits
CHILD_POLL_SECONDS = 1.0  # the output loop's safety-net wake-up; output and SIGCHLD wake it at once
UPLOAD_ATTEMPTS = 6
BACKOFF_MAX_SECONDS = 4.0
THROTTLED_SECONDS = 300  # how long S3 may answer SlowDown before an upload or download gives up
CLOSE_SECONDS = 120  # the most the wrapper waits, after the script, for the last uploads
# After the script, how long a refused channel waits for a renewed policy (then the spool keeps it).
STALLED_CLOSE_SECONDS = 5
STALLED_RETRY_SECONDS = 5  # a channel that failed for a network reason tries again after this long
SPOOL_CHECK_SECONDS = 0.5  # how often the channel looks for a renewed policy (and a stalled one retries)
RENEW_HANDOVER_SECONDS = 30  # how long a renewal command waits for the running wrapper to take its policy
RENEWED_DOWNLOAD_WAIT_SECONDS = 10  # after a refused download, how long to wait for a renewal's fresh URL
EXIT_NOT_RUN, EXIT_CANNOT_START, EXIT_NOT_FOUND = 125, 126, 127
S3_ROUTE_FIX = "give the instance's subnet a route to S3: an S3 gateway endpoint in its VPC, or a NAT route"
VENV_MARKER = b".ec2-runner-complete"
STALE_TEMP_SECONDS = 3 * 86400  # longer than the longest execution timeout (2 days): never a live run's dir
# The names of our temp dirs: mkdtemp's (and the sh fallback's mktemp's), and the spools.
OWN_TEMP_NAME = re.compile(r"^ec2-runner-([A-Za-z0-9_]{6,8}|spool-[A-Za-z0-9_-]+)$")
