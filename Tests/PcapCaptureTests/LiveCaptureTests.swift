import Foundation
import PcapCapture
import Testing

#if canImport(Glibc)
import Glibc
#endif

private let isRoot = getuid() == 0

/// Sends one UDP datagram to 127.0.0.1:`port`.
private func sendUDP(port: UInt16, payload: [UInt8]) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    let sent = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
            payload.withUnsafeBytes { bytes in
                sendto(fd, bytes.baseAddress, bytes.count, 0, socketAddress, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }
    return sent == payload.count
}

@Suite struct LiveCaptureTests {
    @Test func nonexistentInterfaceIsNoSuchDevice() {
        do {
            _ = try PcapSource.live(interface: "tlsscope-nope0")
            Issue.record("opening a nonexistent interface succeeded")
        } catch {
            switch error {
            case .noSuchDevice(let interface, _):
                #expect(interface == "tlsscope-nope0")
            case .permissionDenied:
                // Without privileges Linux refuses the capture socket before it looks up the device.
                #expect(!isRoot)
            default:
                Issue.record("expected .noSuchDevice, got \(error)")
            }
        }
    }

    @Test func permissionDeniedMessageNamesTheCapabilities() {
        let error = CaptureError.permissionDenied(interface: "eth0", message: "socket: Operation not permitted")
        #expect(error.description.contains("CAP_NET_RAW"))
        #expect(error.description.contains("CAP_NET_ADMIN"))
    }

    @Test(.enabled(if: isRoot, "live capture on lo needs root (or CAP_NET_RAW + CAP_NET_ADMIN)"))
    func loopbackCapturesADatagram() throws {
        var source = try PcapSource.live(interface: "lo", snapLength: 65_535, timeoutMilliseconds: 100)
        #expect(source.isLive == true)
        #expect(source.linkType == 1)  // Linux loopback is DLT_EN10MB
        let port = UInt16.random(in: 40_000...60_000)
        try source.setFilter("udp and dst port \(port)")
        let payload = Array("tlsscope live test".utf8)
        #expect(sendUDP(port: port, payload: payload))

        let started = Date()
        var captured: [UInt8]?
        var timestamp: Int64 = 0
        while captured == nil && Date().timeIntervalSince(started) < 5 {
            switch try source.next() {
            case .frame(let frame):
                captured = Array(frame.bytes)
                timestamp = frame.timestampNanoseconds
            case .timeout:
                continue
            case .end:
                Issue.record("live capture ended")
                return
            }
        }
        let frame = try #require(captured)
        #expect(Array(frame.suffix(payload.count)) == payload)
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        #expect(abs(now - timestamp) < 60 * 1_000_000_000)
        let counters = try source.stats()
        #expect(counters.received >= 1)
    }

    @Test(.enabled(if: isRoot, "live capture on lo needs root (or CAP_NET_RAW + CAP_NET_ADMIN)"))
    func breakLoopFromAnotherThreadEndsABlockedRead() throws {
        // A long timeout and a filter nothing matches: only breakLoop() can end next() quickly.
        var source = try PcapSource.live(interface: "lo", immediate: true, timeoutMilliseconds: 10_000)
        try source.setFilter("udp and dst port 9 and src port 9")
        let handle = source.breakLoopHandle
        let thread = Thread {
            Thread.sleep(forTimeInterval: 0.2)
            handle.breakLoop()
        }
        thread.start()
        let started = Date()
        var result = try source.next()
        while case .timeout = result, Date().timeIntervalSince(started) < 15 {
            result = try source.next()
        }
        if case .end = result {} else { Issue.record("expected .end after breakLoop") }
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func breakLoopHandleOutlivesItsSource() throws {
        let directory = try TemporaryDirectory()
        let handle: BreakLoopHandle
        do {
            let source = try PcapSource(file: try directory.write("a.pcap", PcapFileBuilder().bytes))
            handle = source.breakLoopHandle
        }
        // The source is closed; this must be a harmless no-op.
        handle.breakLoop()
        #expect(PcapSource.libraryVersion.contains("libpcap"))
    }
}
