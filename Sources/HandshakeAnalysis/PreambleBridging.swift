import PacketDecoding
import Preambles
import FlowTracking
import TCPReassembly

// The Preambles module depends on WireCursor alone (so it is fuzzed alone): its direction and address
// types map here onto the flow table's.

extension FlowDirection {
    /// The same direction as the preamble machine names it.
    var preambleSide: PreambleSide { self == .fromInitiator ? .initiator : .responder }
}

extension IPAddress {
    /// An address from a PROXY protocol header (the original client behind a load balancer).
    init(_ address: ProxyAddress) {
        self.init(high: address.high, low: address.low, isIPv6: address.isIPv6)
    }
}
