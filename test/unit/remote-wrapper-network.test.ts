// The wrapper's network behaviour against local servers (test/python/network_test_*.py): the route to S3
// (s3route.py) and the channel's last uploads (channel.py). Apart from the modules' unit tests
// (remote-wrapper-build) because each case waits seconds for timeouts.
import { describe, test } from 'node:test';
import { assertPythonTestsPass } from '../support/pythonTests';

describe('instance-side wrapper: network', () => {
  test('no route within the short wait, a slow S3 once reached, the last uploads retried (test/python)', () => {
    assertPythonTestsPass('network_test_*.py', 7);
  });
});
