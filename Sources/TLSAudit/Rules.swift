import TLSWire
import TextFormatting
import X509Inspection

/// Audits one connection against `policy`: every finding that applies, each id at most once, worst first
/// then by id. Severities come from the policy; broken crypto is always critical; findings matching one of
/// the policy's exceptions are dropped.
public func audit(_ input: AuditInput, policy: AuditPolicy = .intermediate) -> [Finding] {
    audit(input, policy: policy, messages: true)
}

/// The findings, and the ids the policy's exceptions silenced (so a report can say what it does not show).
/// `independent`: the policy-independent rules' findings of `input`, worked out once with messages and
/// shared with the connection's other judgements (nil: worked out here).
public func audit(
    _ input: AuditInput, policy: AuditPolicy, suppressed: inout [String], independent: PolicyIndependentFindings? = nil
) -> [Finding] {
    let collector = collect(input, policy: policy, messages: true, independent: independent)
    if !policy.exceptions.isEmpty {
        suppressed = collector.suppressedIDs(policy: policy, input: input)
    }
    return collector.findings(policy: policy, input: input)
}

/// The findings; with `messages: false` their messages are left empty (never built): enough to judge a
/// verdict, at a fraction of the cost (the messages are most of a rule's work).
func audit(_ input: AuditInput, policy: AuditPolicy, messages: Bool) -> [Finding] {
    collect(input, policy: policy, messages: messages, independent: nil).findings(policy: policy, input: input)
}

/// What the rules that do not depend on the policy find on one connection (extensions, heartbeats, how
/// it ended, the certificates' signatures, dates and names, post-quantum key exchange, carried findings):
/// worked out once and added to each policy's findings, instead of once per profile (the three built-in
/// profiles' verdicts ran every rule three times).
public struct PolicyIndependentFindings: Sendable {
    fileprivate let raw: [FindingCollector.Raw]

    /// `messages`: whether the findings' messages are built (a verdict needs none). `input` is borrowed (an
    /// initializer's own parameter was a copy of the whole input).
    public init(_ input: borrowing AuditInput, messages: Bool) {
        var collector = FindingCollector(wantsMessages: messages)
        collectPolicyIndependent(input, &collector)
        raw = collector.raw
    }
}

/// The policy-independent rules, in the order `collect` runs them (each id's first message is kept).
private func collectPolicyIndependent(_ input: AuditInput, _ out: inout FindingCollector) {
    checkCertificateFacts(input, &out)
    checkExtensions(input, &out)
    checkHeartbeats(input, &out)
    checkOutcome(input, &out)
    checkPostQuantum(input, &out)
    out.addCarried(input.carriedFindings)
}

/// Every rule's raw findings: the policy's rules, then the policy-independent ones (`independent`, or
/// worked out here). No id comes from both kinds, and those of the second kind are added after the first
/// kind marks what the policy does not allow, so the findings are those of running every rule in turn.
private func collect(
    _ input: AuditInput, policy: AuditPolicy, messages: Bool, independent: PolicyIndependentFindings?
) -> FindingCollector {
    var collector = FindingCollector(wantsMessages: messages)
    checkVersion(input, policy, &collector)
    checkCipherSuite(input, policy, &collector)
    checkKeyExchange(input, policy, &collector)
    checkCertificates(input, policy, &collector)
    checkClientOffer(input, policy, &collector)
    if let independent {
        collector.merge(independent.raw)
    } else {
        collectPolicyIndependent(input, &collector)
    }
    return collector
}

/// Whether `input` passes `policy`: no finding of medium severity or worse (what a compliance verdict asks),
/// stopping at the first rule that brings one. Exact, because findings only grow as the rules run: a later
/// rule adds findings or raises one (critical, outside the policy) and never removes or lowers one, and
/// exceptions and disabled ids depend on the id and the input only. Same answer as
/// `Compliance.passes(audit(input, policy:))`, at a fraction of the work when a profile fails early (a TLS 1.2
/// connection under modern, an ECDSA certificate under old).
func passes(_ input: AuditInput, policy: AuditPolicy, independent: PolicyIndependentFindings? = nil) -> Bool {
    var collector = FindingCollector(wantsMessages: false)
    var judged = 0
    func failsSoFar() -> Bool {
        // Only when a rule changed something (on a clean connection most add nothing).
        guard collector.changes != judged else { return false }
        judged = collector.changes
        return collector.hasMediumOrWorse(policy: policy, input: input)
    }
    checkVersion(input, policy, &collector)
    if failsSoFar() { return false }
    checkCipherSuite(input, policy, &collector)
    if failsSoFar() { return false }
    checkKeyExchange(input, policy, &collector)
    if failsSoFar() { return false }
    checkCertificates(input, policy, &collector)
    if failsSoFar() { return false }
    checkClientOffer(input, policy, &collector)
    if failsSoFar() { return false }
    if let independent {
        collector.merge(independent.raw)
    } else {
        collectPolicyIndependent(input, &collector)
    }
    return !failsSoFar()
}

/// Raw findings before the policy gives them a severity.
struct FindingCollector {
    struct Raw: Sendable {
        var id: FindingID
        var message: String
        /// This instance is broken crypto whatever the id's usual severity (DH < 1024, MD5 signature...).
        var forceCritical: Bool
        /// It reports something the active policy does not allow: never below medium.
        var outsidePolicy: Bool
    }
    private(set) var raw: [Raw] = []
    /// Counts the adds and marks that changed `raw` (for `passes`, which judges again only after a change).
    private(set) var changes = 0
    /// False: messages are not built (a verdict needs only ids and severities).
    let wantsMessages: Bool

    init(wantsMessages: Bool = true) {
        self.wantsMessages = wantsMessages
    }

    /// Adds `id` once (a later add keeps the first message, but a critical instance wins and being
    /// outside the policy sticks). Linear in the few ids collected (at most the catalog's ~45). The
    /// message is built only when wanted.
    mutating func add(
        _ id: FindingID, _ message: @autoclosure () -> String, critical: Bool = false, outsidePolicy: Bool = false
    ) {
        if let index = raw.firstIndex(where: { $0.id == id }) {
            if critical && !raw[index].forceCritical {
                raw[index].message = wantsMessages ? message() : ""
                raw[index].forceCritical = true
                changes += 1
            }
            if outsidePolicy && !raw[index].outsidePolicy {
                raw[index].outsidePolicy = true
                changes += 1
            }
            return
        }
        changes += 1
        if raw.capacity == 0 { raw.reserveCapacity(4) }  // most connections get a few: one allocation for them
        raw.append(Raw(id: id, message: wantsMessages ? message() : "", forceCritical: critical, outsidePolicy: outsidePolicy))
    }

    /// Findings a record carried (read back by `tlsscope report`), of the ids `AuditInput.carriedFindingIDs`
    /// names; a name outside the catalog is no finding the rules know, and is left out.
    mutating func addCarried(_ carried: [AuditInput.CarriedFinding]) {
        for finding in carried {
            if let id = FindingID(name: finding.id) { add(id, finding.message) }
        }
    }

    /// Adds findings collected apart (`PolicyIndependentFindings`), as if each had been added here in turn.
    mutating func merge(_ findings: [Raw]) {
        for item in findings {
            add(item.id, item.message, critical: item.forceCritical, outsidePolicy: item.outsidePolicy)
        }
    }

    /// Marks the collected findings among `ids` as describing something the policy does not allow.
    mutating func markOutsidePolicy(_ ids: FindingIDSet) {
        for index in raw.indices where ids.contains(raw[index].id) && !raw[index].outsidePolicy {
            raw[index].outsidePolicy = true
            changes += 1
        }
    }

    /// The severity `item` gets under `policy`; nil when an exception or the policy leaves it out.
    private func severity(of item: Raw, policy: AuditPolicy, input: AuditInput) -> Severity? {
        if !policy.exceptions.isEmpty, policy.exceptions.contains(where: { $0.id == item.id.name && $0.matches(input) }) {
            return nil
        }
        let broken = item.forceCritical || item.id.isBrokenCrypto
        if !broken && policy.isDisabled(item.id) { return nil }
        var severity = broken ? .critical : policy.severity(of: item.id)
        // What the profile does not allow fails `--fail-on medium` whichever id reports it.
        if item.outsidePolicy { severity = max(severity, .medium) }
        return severity
    }

    /// Whether a finding collected so far is of medium severity or worse under `policy`.
    func hasMediumOrWorse(policy: AuditPolicy, input: AuditInput) -> Bool {
        raw.contains { (severity(of: $0, policy: policy, input: input) ?? .info) >= .medium }
    }

    func has(_ id: FindingID) -> Bool { raw.contains { $0.id == id } }
    func hasAny(_ ids: FindingIDSet) -> Bool { raw.contains { ids.contains($0.id) } }

    /// Ids collected that one of the policy's exceptions silences.
    func suppressedIDs(policy: AuditPolicy, input: AuditInput) -> [String] {
        raw.filter { item in policy.exceptions.contains { $0.id == item.id.name && $0.matches(input) } }.map(\.id.name)
    }

    func findings(policy: AuditPolicy, input: AuditInput) -> [Finding] {
        let kept = raw.compactMap { item -> Finding? in
            severity(of: item, policy: policy, input: input).map { Finding(id: item.id.name, severity: $0, message: item.message) }
        }
        return kept.sorted { lhs, rhs in
            lhs.severity != rhs.severity ? lhs.severity > rhs.severity : lhs.id < rhs.id
        }
    }
}

// MARK: - Versions

/// RFC 6176 (SSL 2.0), RFC 7568 (SSL 3.0), RFC 8996 (TLS 1.0, 1.1, DTLS 1.0). (A switch: a dictionary
/// hashed every version of every client offer under every profile.)
private func versionRule(_ version: TLSVersion) -> (id: FindingID, why: String)? {
    switch version {
    case .ssl2: (.versionSSL2, "RFC 6176 prohibits it")
    case .ssl3: (.versionSSL3, "RFC 7568 prohibits it; POODLE")
    case .tls10: (.versionTLS10, "RFC 8996 deprecates it")
    case .tls11: (.versionTLS11, "RFC 8996 deprecates it")
    case .dtls10: (.versionDTLS10, "RFC 8996 deprecates it")
    default: nil
    }
}

/// DTLS versions are judged as the TLS version they derive from (RFC 6347, RFC 9147).
func policyEquivalent(_ version: TLSVersion) -> TLSVersion {
    switch version {
    case .dtls10: .tls11
    case .dtls12: .tls12
    case .dtls13: .tls13
    default: version
    }
}

private func checkVersion(_ input: AuditInput, _ policy: AuditPolicy, _ out: inout FindingCollector) {
    guard let version = input.negotiatedVersion else { return }
    let allowed = policy.accepts(policyEquivalent(version))
    if let rule = versionRule(version) {
        out.add(rule.id, "server negotiated \(version.name) (\(rule.why))", outsidePolicy: !allowed)
    } else if !allowed {
        out.add(
            .policyVersion, "server negotiated \(version.name), which policy \(policy.name) does not allow",
            outsidePolicy: true)
    }
}

// MARK: - Cipher suite

/// Findings that describe the negotiated suite itself; policy-cipher only fires when none of them did.
private let suiteSpecificIDs = FindingIDSet([
    .cipherNull, .cipherAnon, .cipherExport, .cipherRC4, .cipherRC2, .cipherDES, .cipherMD5Mac,
    .cipher3DES, .cipherCBC, .cipherSHA1Mac, .noForwardSecrecy, .kexFFDHE, .cipherUnknown,
    .ianaDiscouraged,
])

/// What is intrinsically wrong with a suite, as (id, why) pairs, from its IANA parts.
private let cbcNeedle: [UInt8] = Array("_cbc".utf8)

func suiteWeaknesses(_ parts: CipherSuiteParts) -> [(id: FindingID, why: String)] {
    var result: [(id: FindingID, why: String)] = []
    let encryption = parts.encryption
    if encryption == "NULL" { result.append((.cipherNull, "no encryption")) }
    if parts.authentication == "anon" || parts.authentication == "NULL" {
        result.append((.cipherAnon, "no server authentication"))
    }
    if parts.keyExchange.hasSuffix("_EXPORT") || (parts.encryptionBits > 0 && parts.encryptionBits <= 40) {
        result.append((.cipherExport, "EXPORT-grade, FREAK/Logjam"))
    }
    if encryption.hasPrefix("RC4") { result.append((.cipherRC4, "RC4, RFC 7465 prohibits it")) }
    if encryption.hasPrefix("RC2") { result.append((.cipherRC2, "RC2, 40-bit export cipher")) }
    if encryption.hasPrefix("DES") { result.append((.cipherDES, "single DES, 56-bit key or less")) }
    if parts.mac == "MD5" { result.append((.cipherMD5Mac, "HMAC-MD5 record MAC")) }
    if encryption.hasPrefix("3DES") || encryption.hasPrefix("IDEA") {
        result.append((.cipher3DES, "64-bit block cipher, SWEET32: CVE-2016-2183"))
    }
    if containsASCIIIgnoringCase(encryption, cbcNeedle) {
        result.append((.cipherCBC, "CBC mode with MAC-then-encrypt, Lucky Thirteen and padding oracles"))
    }
    if parts.mac == "SHA" { result.append((.cipherSHA1Mac, "HMAC-SHA1 record MAC")) }
    return result
}

/// Every id `suiteWeaknesses` can give, in a fixed order: bit i of a weakness mask is `suiteWeaknessIDs[i]`.
let suiteWeaknessIDs: [FindingID] = [
    .cipherNull, .cipherAnon, .cipherExport, .cipherRC4, .cipherRC2, .cipherDES, .cipherMD5Mac,
    .cipher3DES, .cipherCBC, .cipherSHA1Mac,
]

/// `suiteWeaknesses` of every code point as a bit mask, worked out once (128 KB): judging a ClientHello's
/// offer is then a table read per suite, not a registry lookup and an array of strings (it was the
/// costliest rule on a connection-heavy capture). Only registered suites can have weaknesses, so only
/// those ~340 are worked out (all 65,536 code points through the registry cost 10 M instructions).
let suiteWeaknessMasks: [UInt16] = {
    var masks = [UInt16](repeating: 0, count: 0x1_0000)
    for suite in CipherSuite.registeredWithParts {
        guard let parts = suite.parts else { continue }
        var mask: UInt16 = 0
        for weakness in suiteWeaknesses(parts) {
            if let bit = suiteWeaknessIDs.firstIndex(of: weakness.id) { mask |= 1 << bit }
        }
        masks[Int(suite.rawValue)] = mask
    }
    return masks
}()

/// The weaknesses (as a mask over `suiteWeaknessIDs`) that `policy` rates high or critical.
func seriousWeaknessMask(_ policy: AuditPolicy) -> UInt16 {
    var mask: UInt16 = 0
    // By name: a policy works this out before its table of severities by id is made.
    for (bit, id) in suiteWeaknessIDs.enumerated() where policy.severity(of: id.name) >= .high { mask |= 1 << bit }
    return mask
}

/// Static key exchanges: the server's long-term key protects every session (RFC 9325 §4.1).
/// Anonymous DH/ECDH suites are ephemeral, and cipher-anon already covers them; TLS_NULL_WITH_NULL_NULL has
/// no key exchange at all. (Typed: a set of names hashed the suite's key exchange name under every profile.)
func hasStaticKeyExchange(_ parts: CipherSuiteParts) -> Bool {
    switch parts.keyExchangeAlgorithm {
    case .rsa, .rsaExport, .dh, .dhExport, .ecdh, .psk, .rsaPSK, .krb5, .krb5Export:
        parts.authenticationAlgorithm != .anon
    default:
        false
    }
}

private func checkCipherSuite(_ input: AuditInput, _ policy: AuditPolicy, _ out: inout FindingCollector) {
    guard let suite = input.negotiatedCipherSuite else { return }
    guard let parts = suite.parts, !suite.isGREASE else {
        let what =
            suite.isGREASE
            ? "the GREASE value \(hex(suite.rawValue)) (RFC 8701 forbids selecting it)"
            : suite.ianaName.map { "\($0), a signalling value rather than a cipher suite" }
                ?? "\(hex(suite.rawValue)), which is not a registered cipher suite"
        out.add(.cipherUnknown, "server selected \(what)", outsidePolicy: !policy.accepts(suite))
        return
    }
    // The table says in one load whether there is any weakness (mostly none): the list is built only then.
    if suiteWeaknessMasks[Int(suite.rawValue)] != 0 {
        for weakness in suiteWeaknesses(parts) {
            out.add(weakness.id, "server negotiated \(suite.name) (\(weakness.why))")
        }
    }
    if hasStaticKeyExchange(parts) {
        out.add(
            .noForwardSecrecy,
            "server negotiated \(suite.name): \(parts.keyExchange) key exchange has no forward secrecy")
    } else if parts.keyExchange == "TLS13", input.resumed, input.negotiatedGroup == nil {
        out.add(.noForwardSecrecy, "TLS 1.3 resumption without key_share (psk_ke): no forward secrecy")
    }
    if suite.recommendation == .discouraged {
        out.add(.ianaDiscouraged, "server negotiated \(suite.name), which IANA marks discouraged (Recommended = D)")
    }
    // Checked after the key-exchange rules: kex-ffdhe also makes policy-cipher unnecessary.
    if isFiniteFieldDHE(parts: parts, group: input.negotiatedGroup, dhPrimeBits: input.dhPrimeBits) {
        let bits = input.dhPrimeBits.map { " (\($0)-bit prime)" } ?? input.negotiatedGroup.map { " (\($0.name))" } ?? ""
        out.add(.kexFFDHE, "server chose finite-field DHE\(bits); ECDHE is faster and better supported")
    }
    guard !policy.accepts(suite) else { return }
    if out.hasAny(suiteSpecificIDs) {
        // e.g. DHE under intermediate: kex-ffdhe (low) is what says so, so it is at least medium.
        out.markOutsidePolicy(suiteSpecificIDs)
    } else {
        out.add(
            .policyCipher, "server negotiated \(suite.name), which policy \(policy.name) does not allow",
            outsidePolicy: true)
    }
}

func isFFDHEGroup(_ group: NamedGroup) -> Bool { (0x0100...0x01ff).contains(group.rawValue) }

func isFiniteFieldDHE(parts: CipherSuiteParts, group: NamedGroup?, dhPrimeBits: Int?) -> Bool {
    switch parts.keyExchangeAlgorithm {
    case .dhe, .dhePSK, .dheExport: return true
    case .dh, .dhExport, .dhAnon, .dhAnonExport: return parts.authenticationAlgorithm == .anon
    case .tls13: return group.map(isFFDHEGroup) ?? false
    default: return false
    }
}

// MARK: - Key exchange group and DH size

/// RFC 7919 named FFDHE groups: prime size.
private func ffdhePrimeBits(_ group: NamedGroup) -> Int? {
    switch group.rawValue {
    case 0x0100: 2048
    case 0x0101: 3072
    case 0x0102: 4096
    case 0x0103: 6144
    case 0x0104: 8192
    default: nil
    }
}

/// Findings that describe the negotiated group itself; policy-group only fires when none of them did.
private let groupSpecificIDs = FindingIDSet([.kexFFDHE, .dhWeak, .ianaDiscouraged, .pqObsoleteDraft])

private func checkKeyExchange(_ input: AuditInput, _ policy: AuditPolicy, _ out: inout FindingCollector) {
    let group = input.negotiatedGroup
    let dhBits = input.dhPrimeBits ?? group.flatMap(ffdhePrimeBits)
    if let dhBits {
        let floor = max(2048, policy.minimumDHBits)
        if dhBits < floor {
            out.add(
                .dhWeak, "DH prime is \(dhBits) bits (< \(floor))", critical: dhBits < 1024,
                outsidePolicy: dhBits < policy.minimumDHBits)
        }
        if let leaf = input.certificates.first, leaf.keyType == "RSA", let rsaBits = leaf.keyBits, dhBits < rsaBits {
            out.add(
                .dhWeakerThanCert,
                "DH prime is \(dhBits) bits, shorter than the certificate's \(rsaBits)-bit RSA key")
        }
    }
    guard let group, !group.isGREASE else { return }
    var covered = isKyberDraft(group) || out.has(.kexFFDHE) || out.has(.dhWeak)
    if group.recommendation == .discouraged {
        out.add(.ianaDiscouraged, "server chose group \(group.name), which IANA marks discouraged (Recommended = D)")
        covered = true
    }
    guard !policy.accepts(group) else { return }
    if covered {
        out.markOutsidePolicy(groupSpecificIDs)
    } else {
        out.add(
            .policyGroup, "server chose group \(group.name), which policy \(policy.name) does not allow",
            outsidePolicy: true)
    }
}

// MARK: - Certificates

private let secondsPerDay: Int64 = 86_400

private func describe(_ index: Int, _ certificate: CertificateSummary) -> String {
    index == 0 ? "leaf certificate" : "chain certificate \(index + 1) (\(certificate.subject))"
}

/// "rsa", "ecdsa", "ed25519"... as Mozilla's certificate_types spell them.
func policyKeyType(_ keyType: String) -> String {
    switch keyType {
    case "EC": "ecdsa"
    default: keyType.lowercased()
    }
}

/// What the policy judges of the certificates: key sizes against its floors, the leaf's lifetime, and the
/// leaf's key type, curve and signature against its lists.
private func checkCertificates(_ input: AuditInput, _ policy: AuditPolicy, _ out: inout FindingCollector) {
    for (index, certificate) in input.certificates.enumerated() {
        // Named only in a message, and messages are built only when wanted (a verdict builds none).
        func what() -> String { describe(index, certificate) }
        if let bits = certificate.keyBits {
            switch certificate.keyType {
            case "RSA", "DSA", "DH":
                let floor = max(2048, policy.minimumRSABits)
                if bits < floor {
                    out.add(
                        .certKeyWeak, "\(what()) has a \(bits)-bit \(certificate.keyType) key (< \(floor))",
                        critical: bits < 1024)
                }
            case "EC":
                let floor = max(224, policy.minimumECBits)
                if bits < floor {
                    out.add(.certKeyWeak, "\(what()) has a \(bits)-bit EC key (< \(floor))")
                }
            default:
                break
            }
        }
    }
    guard let leaf = input.certificates.first else { return }
    let lifetime = difference(leaf.notAfter, leaf.notBefore)
    let (product, overflow) = Int64(policy.maximumCertificateLifetimeDays).multipliedReportingOverflow(
        by: secondsPerDay)
    let maximum = overflow ? Int64.max : product
    if lifetime > maximum {
        out.add(
            .certLifetime,
            "leaf certificate is valid for \(lifetime / secondsPerDay) days "
                + "(> \(policy.maximumCertificateLifetimeDays))")
    }
    var reasons: [String] = []
    let keyType = policyKeyType(leaf.keyType)
    if !policy.certificateKeyTypes.contains(keyType) {
        reasons.append("key type \(keyType) (allowed: \(policy.certificateKeyTypes.sorted().joined(separator: ", ")))")
    } else if keyType == "ecdsa", !policy.certificateCurves.contains(leaf.curve ?? "") {
        reasons.append("curve \(leaf.curve ?? "unknown")")
    }
    if weakSignatureHash(leaf.signatureAlgorithm) == nil,
        !policy.certificateSignatures.contains(leaf.signatureAlgorithm)
    {
        reasons.append("signature \(leaf.signatureAlgorithm)")
    }
    if !reasons.isEmpty {
        out.add(
            .policyCert,
            "leaf certificate \(reasons.joined(separator: " and ")) not allowed by policy \(policy.name)",
            outsidePolicy: true)
    }
}

/// What holds of the certificates whatever the policy: weak signatures, dates against the capture (or audit)
/// time, the server name against the leaf's names, a self-signed leaf.
private func checkCertificateFacts(_ input: AuditInput, _ out: inout FindingCollector) {
    let now = input.captureTime
    for (index, certificate) in input.certificates.enumerated() {
        func what() -> String { describe(index, certificate) }
        // A trust anchor's self-signature is never checked, so its hash does not matter.
        let isAnchor = index > 0 && certificate.isSelfSigned
        if !isAnchor, let hash = weakSignatureHash(certificate.signatureAlgorithm) {
            out.add(
                .certSignatureWeak, "\(what()) is signed with \(certificate.signatureAlgorithm) (\(hash))",
                critical: hash != "SHA-1")
        }
        if now > certificate.notAfter {
            out.add(
                .certExpired,
                "\(what()) expired \(utcDate(certificate.notAfter)), \(days(difference(now, certificate.notAfter))) "
                    + "before \(input.judgedAtGivenTime ? "the audit time (--now)" : "capture")")
        } else if difference(certificate.notAfter, now) <= 30 * secondsPerDay {
            out.add(
                .certExpiring,
                "\(what()) expires \(utcDate(certificate.notAfter)), \(days(difference(certificate.notAfter, now))) "
                    + "after \(input.judgedAtGivenTime ? "the audit time (--now)" : "capture")")
        }
        if now < certificate.notBefore {
            out.add(.certNotYetValid, "\(what()) is not valid before \(utcDate(certificate.notBefore))")
        }
    }
    guard let leaf = input.certificates.first else { return }
    if let serverName = input.serverName, !serverName.isEmpty, !HostNameMatch.covers(leaf, serverName) {
        let names = leaf.hostNames.isEmpty ? "none" : listed(leaf.hostNames, limit: 4)
        out.add(.sniMismatch, "server name \(serverName) is not covered by the leaf certificate's names (\(names))")
    }
    if leaf.isSelfSigned {
        out.add(.certSelfSigned, "leaf certificate (\(leaf.subject)) is self-signed")
    }
}

/// The broken hash in a signature algorithm name, if any ("MD5", "SHA-1"...; MD2 before MD4 before MD5
/// before SHA-1 should a name hold two): one pass over the name's bytes, ignoring ASCII case (it is judged
/// for every certificate under every profile).
func weakSignatureHash(_ algorithm: String) -> String? {
    var algorithm = algorithm
    let found = algorithm.withUTF8 { bytes -> Int in
        let count = bytes.count
        var best = Int.max  // index in `weakSignatureHashes`
        func folded(_ at: Int) -> UInt8 {
            let byte = bytes[at]
            return byte &- 0x41 < 26 ? byte | 0x20 : byte
        }
        var index = 0
        while index + 3 <= count {
            let first = folded(index)
            if first == 0x6d, folded(index + 1) == 0x64 {  // "md"
                switch bytes[index + 2] {
                case 0x32: best = min(best, 0)
                case 0x34: best = min(best, 1)
                case 0x35: best = min(best, 2)
                default: break
                }
            } else if first == 0x73, index + 4 <= count, folded(index + 1) == 0x68, folded(index + 2) == 0x61,
                bytes[index + 3] == 0x31
            {  // "sha1"
                best = min(best, 3)
            }
            index += 1
        }
        return best
    }
    return found < weakSignatureHashes.count ? weakSignatureHashes[found] : nil
}

private let weakSignatureHashes = ["MD2", "MD4", "MD5", "SHA-1"]

/// Whether `text` contains `needle` (lowercase ASCII letters and digits), ignoring ASCII case. A byte
/// loop: `lowercased().contains(_:)` goes through the generic string matcher and cost more per
/// connection than all the other rules together.
func containsASCIIIgnoringCase(_ text: String, _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty else { return true }
    var text = text
    return text.withUTF8 { bytes in
        guard bytes.count >= needle.count else { return false }
        for start in 0...(bytes.count - needle.count) {
            var index = 0
            while index < needle.count {
                let byte = bytes[start + index]
                let folded = (0x41...0x5a).contains(byte) ? byte | 0x20 : byte
                if folded != needle[index] { break }
                index += 1
            }
            if index == needle.count { return true }
        }
        return false
    }
}

/// a − b, saturating: times come from certificates and `--now`, so neither is trusted to be sane.
func difference(_ a: Int64, _ b: Int64) -> Int64 {
    let (result, overflow) = a.subtractingReportingOverflow(b)
    return overflow ? (b < 0 ? Int64.max : Int64.min) : result
}

private func days(_ seconds: Int64) -> String {
    let whole = seconds / secondsPerDay
    return whole == 1 ? "1 day" : "\(whole) days"
}

/// "2024-03-01" for seconds since 1970 (UTC).
/// Up to `limit` items joined by ", ", then "and N more".
private func listed(_ items: [String], limit: Int) -> String {
    items.count <= limit
        ? items.joined(separator: ", ") : items.prefix(limit).joined(separator: ", ") + " and \(items.count - limit) more"
}

func utcDate(_ seconds: Int64) -> String { CivilDate.dateString(epochSeconds: seconds) }

/// "0x00ff": an unnamed code point.
func hex(_ value: UInt16) -> String { Hex.codePoint(value) }

// MARK: - Extensions in the ServerHello

private func checkExtensions(_ input: AuditInput, _ out: inout FindingCollector) {
    if input.compression {
        let method = input.serverHello.map { RegistryName.compressionMethod($0.compressionMethod) } ?? "a"
        out.add(.compression, "server selected \(method) compression (CRIME, CVE-2012-4929)")
    }
    if input.heartbeatNegotiated {
        out.add(.heartbeat, "server accepted the heartbeat extension (RFC 6520), the Heartbleed attack surface")
    }
    guard let hello = input.serverHello, !hello.isHelloRetryRequest else { return }
    let version = input.negotiatedVersion ?? hello.negotiatedVersion
    let predatesTLS13 = version != .tls13 && version != .dtls13 && version.tls13Draft == nil && version != .ssl2
    if predatesTLS13 && !hello.extensions.contains(where: { $0.type == .renegotiationInfo }) {
        let clientSignalled =
            input.clientHello.map {
                $0.cipherSuites.contains(CipherSuite(rawValue: 0x00ff))
                    || $0.extensions.contains { $0.type == .renegotiationInfo }
            } ?? false
        out.add(
            .noSecureRenegotiation,
            "server hello has no renegotiation_info (RFC 5746)"
                + (clientSignalled ? " although the client signalled support" : ""))
    }
}

// MARK: - Heartbeats

private func checkHeartbeats(_ input: AuditInput, _ out: inout FindingCollector) {
    // The last request-like record from each side (type 1, or any encrypted record).
    var lastRequest: [Bool: Int] = [:]
    for record in input.heartbeatRecords {
        let sender = record.fromClient ? "client" : "server"
        if record.type != 1, let request = lastRequest[!record.fromClient], record.recordLength > request {
            out.add(
                .heartbleed,
                "\(sender) heartbeat response of \(record.recordLength) bytes answered a \(request)-byte request "
                    + "(Heartbleed, CVE-2014-0160)")
            lastRequest[!record.fromClient] = nil
        }
        if record.type == 1, let claimed = record.payloadLength, claimed + 3 + 16 > record.recordLength {
            // RFC 6520 §4: type (1) + payload_length (2) + payload + at least 16 bytes of padding.
            out.add(
                .heartbleedProbe,
                "\(sender) heartbeat request claims \(claimed) payload bytes in a \(record.recordLength)-byte record")
        }
        if record.type != 2 { lastRequest[record.fromClient] = record.recordLength }
    }
}

// MARK: - How the handshake ended

private func checkOutcome(_ input: AuditInput, _ out: inout FindingCollector) {
    if let alert = input.alert, alert.isFatal {
        let from = input.alertFrom.map { "\($0.rawValue)" } ?? "a peer"
        out.add(
            .alertFatal,
            "\(from) sent fatal alert \(alert.description.name)"
                + (input.established ? "" : " during the handshake"))
    } else if input.handshakeIncomplete && !input.established {
        out.add(.handshakeIncomplete, "connection ended before the handshake finished")
    }
    if let message = input.keylogMismatch { out.add(.keylogMismatch, message) }
}

// MARK: - What the client offered

private func checkClientOffer(_ input: AuditInput, _ policy: AuditPolicy, _ out: inout FindingCollector) {
    guard let hello = input.clientHello else { return }
    // Severity of a version or suite as this policy rates it (forward secrecy is left out: every browser
    // still offers static-RSA suites, and the Finished MAC stops a downgrade to them).
    func serious(_ id: FindingID) -> Bool { policy.severity(of: id) >= .high }
    var weakVersions: [String] = []
    // The versions judged where they lie (gathered into an array first, each judgement allocated it).
    func consider(_ version: TLSVersion) {
        if let rule = versionRule(version), serious(rule.id), !weakVersions.contains(version.name) {
            weakVersions.append(version.name)
        }
    }
    var offeredVersions = false
    for offered in hello.supportedVersions where !offered.isGREASE {
        offeredVersions = true
        consider(offered)
    }
    if !offeredVersions { consider(hello.version) }
    if hello.isSSLv2Format && hello.sslv2CipherSpecs.contains(where: { $0 >> 16 != 0 }) { consider(.ssl2) }
    // Each distinct weak suite counted once, and only the first four named: a crafted hello repeats tens of
    // thousands of suites, and the rule must stay linear with a bounded message. GREASE values have no
    // parts, so no weakness.
    let seriousMask = policy.seriousWeaknessMask
    var weakSuites = Set<CipherSuite>()
    var weakSuiteNames: [String] = []
    for suite in hello.cipherSuites where suiteWeaknessMasks[Int(suite.rawValue)] & seriousMask != 0 {
        guard weakSuites.insert(suite).inserted else { continue }
        if weakSuiteNames.count < 4 { weakSuiteNames.append(suite.name) }
    }
    let weakSuiteCount = weakSuites.count
    guard !weakVersions.isEmpty || weakSuiteCount > 0 else { return }
    var pieces: [String] = []
    if weakSuiteCount > 0 {
        let shown = weakSuiteNames.joined(separator: ", ")
        let more = weakSuiteCount > 4 ? " and \(weakSuiteCount - 4) more" : ""
        pieces.append("\(weakSuiteCount) weak suite\(weakSuiteCount == 1 ? "" : "s") (\(shown)\(more))")
    }
    if !weakVersions.isEmpty { pieces.append(weakVersions.joined(separator: ", ")) }
    out.add(.clientOffersWeak, "client offered " + pieces.joined(separator: " and "))
}

// MARK: - Post-quantum key exchange

/// ML-KEM (FIPS 203) hybrids and pure ML-KEM groups (TLSWire's one group classification).
func isMLKEM(_ group: NamedGroup) -> Bool { group.kind == .pqHybrid || group.kind == .purePQ }

/// Pre-standard post-quantum code points (the Kyber drafts), superseded by ML-KEM.
func isKyberDraft(_ group: NamedGroup) -> Bool { group.kind == .obsoleteDraft }

private func checkPostQuantum(_ input: AuditInput, _ out: inout FindingCollector) {
    let selected = input.negotiatedGroup
    if let selected, isMLKEM(selected) || isKyberDraft(selected) {
        out.add(.pqNegotiated, "server chose post-quantum hybrid key exchange \(selected.name)")
    }
    if let selected, isKyberDraft(selected) {
        out.add(.pqObsoleteDraft, "server chose \(selected.name), an obsolete pre-standard Kyber code point")
    }
    guard let hello = input.clientHello else { return }
    // The distinct groups offered (supported_groups, then key shares), first-seen order, in one pass
    // with a set: comparing each key share with the whole supported_groups list was quadratic in a
    // crafted hello (tens of thousands of entries).
    var seen = Set<NamedGroup>()
    var drafts: [NamedGroup] = []
    var postQuantum: [NamedGroup] = []
    // Each list walked where it lies (an array of the two lists was an allocation and two copies per call).
    func note(_ group: NamedGroup) {
        let kind = group.kind
        let isDraft = kind == .obsoleteDraft
        guard kind == .pqHybrid || kind == .purePQ || isDraft, seen.insert(group).inserted else { return }
        postQuantum.append(group)
        if isDraft { drafts.append(group) }
    }
    for group in hello.supportedGroups { note(group) }
    for group in hello.keyShareGroups { note(group) }
    if !drafts.isEmpty {
        out.add(
            .pqObsoleteDraft,
            "client offered \(drafts.map(\.name).joined(separator: ", ")), an obsolete pre-standard Kyber code point")
    }
    let selectedPostQuantum = selected.map { isMLKEM($0) || isKyberDraft($0) } ?? false
    if postQuantum.isEmpty {
        out.add(.pqNotOffered, "client offered no post-quantum key exchange (e.g. X25519MLKEM768)")
    } else if input.serverHello != nil, !selectedPostQuantum {
        let chosen = selected.map { "chose \($0.name)" } ?? "negotiated classical key exchange"
        out.add(
            .pqOfferedNotSelected,
            "client offered \(postQuantum.map(\.name).joined(separator: ", ")) but the server \(chosen)")
    }
}
