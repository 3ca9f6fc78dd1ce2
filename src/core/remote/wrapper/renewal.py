# The renewal command (mode "renew"): a fresh upload policy for the running wrapper, or the upload of what
# an ended wrapper kept in its spool.
import os, time
from .values import RENEW_HANDOVER_SECONDS, SPEC
from .spool import Spool
from .channel import Channel


def renew(instance_id):
    """A renewal command: hands a fresh upload policy to the running wrapper, or, when the wrapper has
    ended, uploads what it kept in its spool itself."""
    spool = Spool(instance_id)
    if spool.memory is not None:
        return 0
    started = os.path.exists(spool.path("active"))
    if spool.unreachable():
        print("ec2-runner: this instance cannot reach S3, so the run has no live output to renew"
              " (its output is SSM's own)")
        return 0
    if SPEC.get("download"):
        spool.offer_download(SPEC["download"])
    spool.offer_policy(SPEC["output"])
    deadline = time.time() + RENEW_HANDOVER_SECONDS
    while time.time() < deadline:
        if not spool.policy_offered():
            print("ec2-runner: upload policy handed to the running wrapper")
            return 0
        if started and spool.lock(False):
            channel = Channel(SPEC["output"], instance_id, spool, background=False)
            waiting = len(spool.pending())
            left = channel.upload()
            print("ec2-runner: uploaded %d kept live output object(s), %d left" % (waiting - left, left))
            if not left and spool.ended():
                spool.remove()
            return 0 if not left else 1
        if not started:
            print("ec2-runner: the run has not started here yet; its upload policy waits for it")
            return 0
        time.sleep(0.2)
    print("ec2-runner: the running wrapper did not take the upload policy")
    return 1
