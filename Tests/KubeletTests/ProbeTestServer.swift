import Foundation
@testable import Kubelet

/// A python HTTP (or gRPC) server on a free loopback port, which it prints first.
final class ProbeTestServer: Sendable {
    let process: Process
    let port: Int

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    /// Starts the server and waits, off the cooperative pool, for the line with its port.
    static func start(python source: String) async throws -> ProbeTestServer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", "-c", source]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let reader = out.fileHandleForReading
        let line = await TestProcess.offPool {
            // Byte by byte so nothing past the first line is consumed.
            var line = ""
            while let byte = try? reader.read(upToCount: 1)?.first, byte != 10 {
                line.append(Character(UnicodeScalar(byte)))
            }
            return line
        }
        guard let port = Int(line) else {
            kill(process.processIdentifier, SIGKILL)
            throw ProbeError("test server did not start: \(line)")
        }
        return ProbeTestServer(process: process, port: port)
    }

    /// SIGKILL; Foundation reaps the child, so nothing here waits on a thread.
    func stop() { kill(process.processIdentifier, SIGKILL) }

    static let http = #"""
import http.server, socketserver, time
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers: self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        p = self.path
        if p == "/ok": self.reply(200, b"fine")
        elif p == "/fail": self.reply(500, b"broken")
        elif p == "/agent": self.reply(200 if self.headers.get("User-Agent", "").startswith("kube-") else 400)
        elif p == "/headers":
            ok = self.headers.get("X-Probe") == "yes" and self.headers.get("Host") == "example.test"
            self.reply(200 if ok else 400)
        elif p == "/same": self.reply(302, headers=[("Location", "/ok")])
        elif p == "/same-to-fail": self.reply(301, headers=[("Location", "/fail")])
        elif p == "/other": self.reply(302, headers=[("Location", "http://other.invalid:1/fail")])
        elif p == "/loop": self.reply(302, headers=[("Location", "/loop")])
        elif p == "/slow": time.sleep(5); self.reply(200)
        elif p == "/big": self.reply(200, b"x" * 100000)
        elif p == "/chunked":
            self.send_response(200); self.send_header("Transfer-Encoding", "chunked"); self.end_headers()
            self.wfile.write(b"4\r\nabcd\r\n0\r\n\r\n")
        else: self.reply(404)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"""#
}
