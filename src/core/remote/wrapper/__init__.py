# The instance-side wrapper: a Python 3.6+ program (stdlib only) that the command text runs from a quoted
# heredoc (packed, see commandText.ts; wrapperProgram.ts fills in the client's values). It fetches and
# verifies the staged file, runs it, and ships stdout/stderr/result/exit as frames (frames.ts) to the
# live-output presigned POST while the script runs. Its unit tests: test/python/.
#
# One concern per module. The instance runs them as ONE program: the build (scripts/embedWrapper.mjs)
# joins them in the order WRAPPER_MODULES gives there, without their `from .module import` lines (in the
# program every module's names are globals of that one program), so a module may import only from the
# modules before it (a test checks). Nothing is fetched at run time. This file is not part of the program.
#
# Why these choices:
# - The run spec is base64 JSON embedded in the program text (SPEC_BASE64): base64 needs no quoting, the
#   heredoc delimiter can't occur in it, and the presigned URLs never appear in any process's argv.
# - Arguments, paths and env are handled as bytes so every argument reaches the script byte for byte,
#   even under a C locale on Python 3.6 (whose filesystem encoding is then ASCII).
# - Output is read with select/os.read (binary, no line buffering) in read order so stdout/stderr
#   interleaving survives; PYTHONUNBUFFERED=1 makes Python scripts' prints reach the pipe at once.
# - Uploads run on a thread: a slow or broken channel never stops or kills the user's script. Every
#   object is written to a root-only spool dir before its upload and removed once S3 acknowledged it,
#   so a refused upload (the POST policy or the credentials that signed it expired) loses nothing: the
#   channel stalls, keeps spooling, and resumes from the first unacknowledged object (same sequence
#   numbers: no gap, no duplicate) when a renewal command leaves a fresh policy in the spool. If the
#   wrapper ends first, the spool stays and the renewal command uploads it (mode "renew"). The wrapper
#   also tees everything to its own stdout/stderr, so SSM's output stays meaningful as a last resort.
# - Exit codes of the wrapper itself: 125 = it could not run the script (download, checksum, working
#   directory), 127 = interpreter not found, 126 = interpreter could not be started; otherwise the
#   script's own code, 128+N when killed by signal N. A script's 194 would make the agent reboot the
#   instance and run the command again, so the wrapper exits 195 then; its exit frame says 194.
# - S3 may be unreachable (private subnet without an S3 gateway endpoint or NAT): the first upload and the
#   download wait a few seconds for a route to S3 (a connection, s3route.py; the answer may take longer),
#   then the output is left to SSM's channel (everything is teed) and a download fails with a message
#   naming the fix. An inline file needs no S3.
# - The agent kills nothing when a script ends normally: processes the script left in the wrapper's
#   process group are stopped after it (SIGTERM, then SIGKILL); one started with setsid survives.
# - The instance id names the live-output keys: AWS_SSM_INSTANCE_ID, else the agent's script path
#   (/var/lib/amazon/ssm/<id>/document/orchestration/...), else the single target the client named;
#   without one there is no live output (never a made-up name the client cannot match).
# - Projects (archive): unpacked with tarfile after refusing absolute paths, `..`, links and special files,
#   so nothing lands outside the per-run directory. Dependencies go into a venv keyed by the hash of the
#   requirements and the interpreter's identity. Venvs are not relocatable (pip writes absolute paths
#   into bin/ scripts), so instead of build-then-rename, concurrent runs serialise on an flock per key and
#   a marker file written last says "complete"; a venv without the marker is rebuilt.
# - Artifacts: files left in $EC2_RUNNER_ARTIFACTS travel back as one deterministic tar in an 'a' frame
#   before the exit frame: one ordered channel, so they arrive with the output, attach replays them and
#   no second upload path or listing-order rule is needed. Bounded by ARTIFACTS_MAX_BYTES (one object).
