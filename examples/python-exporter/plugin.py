#!/usr/bin/python3
"""pydirsize: a Vigil exporter plugin written in Python.

It reports how many bytes and regular files the folders of its config
hold, as examples/custom-exporter does in Go, and speaks Vigil's gRPC
plugin protocol (sdk/LANGUAGES.md) with nothing of Vigil's: grpcio, the
stubs protoc made from sdk/proto in gen/, and cryptography for the
certificate of go-plugin's mutual TLS.

What a plugin program does, in the order main() does it:

1. refuse to run unless VIGIL_PLUGIN holds the handshake's magic cookie;
2. serve gRPC on 127.0.0.1: the services Plugin and Exporter of
   sdk/proto, the standard health service, and go-plugin's GRPCController
   (the host's Shutdown) and GRPCStdio;
3. with PLUGIN_CLIENT_CERT set, serve TLS with a certificate of its own
   and accept only that client certificate;
4. print the handshake line to stdout, and never write to stdout again.
"""

import base64
import datetime
import json
import logging
import os
import signal
import sys
import threading
import time
from concurrent import futures

# The stubs in gen/ are checked in; compiled copies of them are not made.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "gen"))

import grpc  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: E402

from health import health_pb2, health_pb2_grpc  # noqa: E402
from prometheus import metrics_pb2  # noqa: E402
from goplugin import go_plugin_pb2, go_plugin_pb2_grpc  # noqa: E402
from vigil.plugin.v1 import plugin_pb2, services_pb2_grpc  # noqa: E402

# The handshake: the host sets this variable to this value. Anything else
# means the program was started by hand.
MAGIC_COOKIE_KEY = "VIGIL_PLUGIN"
MAGIC_COOKIE_VALUE = "b5c1c3f4-vigil-plugin"
# go-plugin's core protocol version, and Vigil's plugin protocol version.
CORE_PROTOCOL_VERSION = 1
PROTOCOL_VERSION = 1

# The size a message of a collection keeps within, as the Go SDK's.
CHUNK_BYTES = 1 << 20

log = logging.getLogger("pydirsize")


class JSONFormatter(logging.Formatter):
    """Writes a record as one line of hclog's JSON, which the host re-logs
    under the plugin's name at the record's level."""

    def format(self, record):
        line = {
            "@level": record.levelname.lower().replace("warning", "warn"),
            "@message": record.getMessage(),
            "@timestamp": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        line.update(getattr(record, "fields", {}))
        return json.dumps(line)


class Config:
    """The plugin's configuration, checked as its schema says."""

    def __init__(self, paths):
        self.paths = paths

    @staticmethod
    def parse(raw):
        """Returns the Config of the JSON object raw, or raises
        AttributeError_ naming the attribute at fault."""
        try:
            obj = json.loads(raw or b"{}")
        except ValueError as e:
            raise AttributeError_("", "the config is not JSON: %s" % e)
        if not isinstance(obj, dict):
            raise AttributeError_("", "the config is not a JSON object")
        for name in obj:
            if name != "paths":
                raise AttributeError_(name, "unknown attribute %r" % name)
        paths = obj.get("paths")
        if paths is None:
            raise AttributeError_("paths", "the attribute \"paths\" is required")
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise AttributeError_("paths", "\"paths\" must be a list of strings")
        if not paths:
            raise AttributeError_("paths", "name at least one folder in \"paths\"")
        return Config(paths)


class AttributeError_(Exception):
    """A config the plugin refuses, about one attribute."""

    def __init__(self, attribute, message):
        super().__init__(message)
        self.attribute = attribute


def varint(n):
    """Encodes n as a protobuf varint."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def gauge_family(name, help_text, values):
    """A gauge MetricFamily with one series per (path, value) of values."""
    family = metrics_pb2.MetricFamily(name=name, help=help_text, type=metrics_pb2.GAUGE)
    for path, value in values:
        m = family.metric.add()
        m.label.add(name="path", value=path)
        m.gauge.value = value
    return family


class Expired(Exception):
    """The call's deadline passed or the host cancelled it."""


def measure(root, context):
    """Returns the bytes, regular files and unreadable entries under root.
    It raises Expired as soon as the call is no longer wanted."""
    size = files = errors = 0

    def failed(_):
        nonlocal errors
        errors += 1

    for dirpath, _, names in os.walk(root, onerror=failed):
        if not context.is_active():
            raise Expired()
        for name in names:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                errors += 1
                continue
            if (st.st_mode & 0o170000) == 0o100000:
                size += st.st_size
                files += 1
    return size, files, errors


class Plugin(services_pb2_grpc.PluginServicer, services_pb2_grpc.ExporterServicer):
    """The services Plugin and Exporter of sdk/proto."""

    def __init__(self):
        self.lock = threading.Lock()
        self.config = None

    def Info(self, request, context):
        return plugin_pb2.InfoResponse(
            name="pydirsize",
            version="0.1.0",
            kind=plugin_pb2.KIND_EXPORTER,
            protocol_version=PROTOCOL_VERSION,
            description="Reports the size of folders (an exporter written in Python).",
        )

    def Schema(self, request, context):
        return plugin_pb2.SchemaResponse(attributes=[
            plugin_pb2.Attribute(
                name="paths",
                type=plugin_pb2.ATTRIBUTE_TYPE_STRING_LIST,
                required=True,
                description="The folders to measure.",
            ),
        ])

    def Configure(self, request, context):
        try:
            cfg = Config.parse(request.config_json)
        except AttributeError_ as e:
            # A refused config leaves the one the plugin had.
            return plugin_pb2.ConfigureResponse(error=str(e), error_attribute=e.attribute)
        with self.lock:
            self.config = cfg
        log.info("configured", extra={"fields": {"paths": len(cfg.paths)}})
        return plugin_pb2.ConfigureResponse()

    def Collect(self, request, context):
        with self.lock:
            cfg = self.config
        if cfg is None:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "the plugin is not configured")
        sizes, counts, errors = [], [], []
        try:
            for root in cfg.paths:
                b, f, e = measure(root, context)
                sizes.append((root, b))
                counts.append((root, f))
                errors.append((root, e))
        except Expired:
            context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "the collection was stopped")
        out = bytearray()
        for family in (
            gauge_family("dirsize_bytes", "Bytes in the regular files of a folder and its subfolders.", sizes),
            gauge_family("dirsize_files", "Regular files in a folder and its subfolders.", counts),
            gauge_family("dirsize_errors", "Entries of a folder that could not be read.", errors),
        ):
            data = family.SerializeToString()
            # A large collection goes in several messages of about
            # CHUNK_BYTES, cut between families.
            if out and len(out) + len(data) > CHUNK_BYTES:
                yield plugin_pb2.CollectResponse(metric_families=bytes(out))
                out = bytearray()
            out += varint(len(data)) + data
        yield plugin_pb2.CollectResponse(metric_families=bytes(out))


class Health(health_pb2_grpc.HealthServicer):
    """The standard health service: go-plugin's host checks "plugin"."""

    def Check(self, request, context):
        if request.service in ("", "plugin"):
            return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)
        context.abort(grpc.StatusCode.NOT_FOUND, "unknown service %r" % request.service)


class Controller(go_plugin_pb2_grpc.GRPCControllerServicer, go_plugin_pb2_grpc.GRPCStdioServicer):
    """go-plugin's GRPCController, through which the host stops the plugin,
    and GRPCStdio, which would carry output written to stdout and stderr:
    this plugin logs to stderr directly, so the stream sends nothing and
    ends when the plugin stops."""

    def __init__(self, stopping):
        self.stopping = stopping

    def Shutdown(self, request, context):
        self.stopping.set()
        return go_plugin_pb2.Empty()

    def StreamStdio(self, request, context):
        while not self.stopping.wait(1) and context.is_active():
            pass
        return
        yield  # a generator: a stream with no messages


def self_signed_certificate():
    """Makes the certificate of the plugin's end of go-plugin's AutoMTLS:
    self-signed, for the name "localhost" the host verifies, usable by the
    host as its root. Returns its DER bytes, its PEM and its key's PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Vigil plugin"),
    ])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(seconds=30))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=True, key_cert_sign=True, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.DER), cert.public_bytes(serialization.Encoding.PEM), key_pem


def exit_with_host(stopping):
    """Ends the plugin once the host that started it is gone: the parent
    process changes when the host dies without stopping its plugins."""
    host = os.getppid()
    while not stopping.wait(1):
        if os.getppid() != host:
            log.warning("the host is gone; stopping")
            stopping.set()


def main():
    if os.environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        print("This is a Vigil plugin: name it in a plugin block of Vigil's configuration, which runs it.", file=sys.stderr)
        sys.exit(1)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    # A Ctrl-C in the host's terminal reaches the plugin too: the host
    # stops it, through Shutdown.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    stopping = threading.Event()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
    plugin = Plugin()
    services_pb2_grpc.add_PluginServicer_to_server(plugin, server)
    services_pb2_grpc.add_ExporterServicer_to_server(plugin, server)
    health_pb2_grpc.add_HealthServicer_to_server(Health(), server)
    controller = Controller(stopping)
    go_plugin_pb2_grpc.add_GRPCControllerServicer_to_server(controller, server)
    go_plugin_pb2_grpc.add_GRPCStdioServicer_to_server(controller, server)

    cert_field = ""
    client_cert = os.environ.get("PLUGIN_CLIENT_CERT")
    if client_cert:
        der, cert_pem, key_pem = self_signed_certificate()
        creds = grpc.ssl_server_credentials(
            [(key_pem, cert_pem)], root_certificates=client_cert.encode(), require_client_auth=True)
        port = server.add_secure_port("127.0.0.1:0", creds)
        # go-plugin reads the certificate as base64 without padding.
        cert_field = "|" + base64.b64encode(der).decode().rstrip("=")
    else:
        port = server.add_insecure_port("127.0.0.1:0")
    if port == 0:
        log.error("cannot listen on 127.0.0.1")
        sys.exit(1)
    server.start()
    sys.stdout.write("%d|%d|tcp|127.0.0.1:%d|grpc%s\n" % (CORE_PROTOCOL_VERSION, PROTOCOL_VERSION, port, cert_field))
    sys.stdout.flush()

    threading.Thread(target=exit_with_host, args=(stopping,), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    stopping.wait()
    # Let the Shutdown call answer, then stop.
    time.sleep(0.1)
    server.stop(grace=1).wait()


if __name__ == "__main__":
    main()
