import Preambles
import TCPReassembly

extension FlowDirection {
    /// The same direction as the preamble machine names it (it depends on no flow-table type, so it
    /// can be fuzzed alone).
    var preambleSide: PreambleSide { self == .fromInitiator ? .initiator : .responder }
}
