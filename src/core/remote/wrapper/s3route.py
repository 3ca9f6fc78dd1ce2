# Reaching S3: a few seconds to learn whether this instance has a route to S3 at all, then the normal wait
# for S3's answer. Without a route (a private subnet with no S3 gateway endpoint and no NAT) the connection
# attempt itself goes unanswered; a busy S3 (or a sandbox hosting a 1,000-instance fleet on 2 CPUs) accepts
# the connection and only answers late, which must not be taken for "no route".
import http.client, urllib.parse, urllib.request
from .failures import is_unreachable


class Route(object):
    """Whether this instance has been seen to reach S3's host: a connection to it, or a proxy's tunnel to it.
    Through a plain-HTTP proxy only an answer proves a route (the proxy itself is always reachable)."""

    def __init__(self):
        self.known = False

    def unreachable(self, error):
        """No route to S3: no connection within the short wait, and none ever seen."""
        return not self.known and is_unreachable(error)

    def open(self, request, timeout, route_seconds):
        """urlopen that waits `route_seconds` for a route, then `timeout` for each read of the answer."""
        url = request.full_url if isinstance(request, urllib.request.Request) else request
        parts = urllib.parse.urlsplit(url)
        s3 = ((parts.hostname or "").lower(), parts.port or (443 if parts.scheme == "https" else 80))
        route = self

        def checked(base):
            class Connection(base):
                def connect(self):
                    self.timeout, answer_seconds = route_seconds, self.timeout
                    base.connect(self)
                    self.timeout = answer_seconds
                    tunnel = ((getattr(self, "_tunnel_host", None) or "").lower(), getattr(self, "_tunnel_port", None))
                    if s3 in ((self.host.lower(), self.port), tunnel):
                        self.sock.settimeout(answer_seconds)
                        route.known = True
            return Connection

        class Http(urllib.request.HTTPHandler):
            def http_open(self, req):
                return self.do_open(checked(http.client.HTTPConnection), req)

        class Https(urllib.request.HTTPSHandler):
            def https_open(self, req):
                return self.do_open(checked(http.client.HTTPSConnection), req, context=self._context)

        response = urllib.request.build_opener(Http, Https).open(request, timeout=timeout)
        self.known = True  # an answer, even through a proxy
        return response
