/// The verdict on one connection under every built-in profile at once, whatever policy is active: the
/// contract's `compliance` object. A profile fails when a finding of medium severity or worse applies
/// under it (what `audit --policy P --fail-on medium` fails on); since whatever a profile does not allow
/// is never below medium, anything outside the profile fails it.
public struct Compliance: Sendable, Hashable {
    /// One built-in profile's verdict.
    public struct Verdict: Sendable, Hashable {
        /// "modern", "intermediate" or "old".
        public var profile: String
        public var passes: Bool
        /// "pass" or "fail", as the record writes it.
        public var text: String { passes ? "pass" : "fail" }
        public init(profile: String, passes: Bool) {
            self.profile = profile
            self.passes = passes
        }
    }

    /// modern, intermediate, old: the contract's key order.
    public var verdicts: [Verdict]

    /// The built-in profiles, in the contract's key order.
    public static let profiles: [AuditPolicy] = [.modern, .intermediate, .old]

    /// Judges `input` under each built-in profile. `judged`: findings already judged under one of them
    /// (the run's policy, when it is a built-in profile unchanged: `profileIndex(of:)`), reused for its verdict.
    /// `independent`: the policy-independent rules' findings of `input`, shared by the profiles (nil: each
    /// profile works them out).
    ///
    /// `input` is borrowed: an initializer's parameters are otherwise its own (+1), so each call copied the
    /// whole input (the hellos, certificates and strings: ~40 references retained, then released).
    public init(
        _ input: borrowing AuditInput, judged: (profileIndex: Int, findings: [Finding])? = nil,
        independent: PolicyIndependentFindings? = nil
    ) {
        // The profiles passed as the globals they are (borrowed): read out of `profiles`, each was copied
        // (its sets and tables retained and released) for every record.
        verdicts = [
            Self.verdict(input, 0, .modern, judged: judged, independent: independent),
            Self.verdict(input, 1, .intermediate, judged: judged, independent: independent),
            Self.verdict(input, 2, .old, judged: judged, independent: independent),
        ]
    }

    private static func verdict(
        _ input: borrowing AuditInput, _ index: Int, _ policy: AuditPolicy,
        judged: (profileIndex: Int, findings: [Finding])?, independent: PolicyIndependentFindings?
    ) -> Verdict {
        if let judged, judged.profileIndex == index {
            return Verdict(profile: policy.name, passes: passes(judged.findings))
        }
        return Verdict(profile: policy.name, passes: TLSAudit.passes(input, policy: policy, independent: independent))
    }

    /// Verdicts as a record states them (read back by `tlsscope report`).
    public init(verdicts: [Verdict]) {
        self.verdicts = verdicts
    }

    /// The index in `profiles` of the profile `policy` is exactly (nil for a policy file, even one named
    /// after a profile).
    public static func profileIndex(of policy: AuditPolicy) -> Int? {
        profiles.firstIndex(of: policy)
    }

    /// The verdict under `profile` ("modern", "intermediate", "old"); nil for another name.
    public func passes(_ profile: String) -> Bool? {
        verdicts.first { $0.profile == profile }?.passes
    }

    /// Whether findings already judged under a profile pass it: none is medium or worse.
    public static func passes(_ findings: [Finding]) -> Bool {
        !findings.contains { $0.severity >= .medium }
    }
}
