import Foundation
import KubeModel

/// An autoscaler's `spec.behavior`, with Kubernetes' defaults for what is not given: scale up
/// at once by the larger of 100% and 4 pods per 15 s; scale down by up to 100% per 15 s after
/// the downscale stabilization window (the controller's flag when the object sets none).
struct ScalingBehavior: Sendable, Equatable {
    /// Which policy wins when several allow different changes.
    enum SelectPolicy: String, Sendable {
        case max = "Max", min = "Min", disabled = "Disabled"
    }

    /// A limit on how much may change within `periodSeconds`.
    struct Policy: Sendable, Equatable {
        enum Kind: String, Sendable { case pods = "Pods", percent = "Percent" }
        var kind: Kind
        var value: Int32
        var periodSeconds: Int32
    }

    /// The rules of one direction.
    struct Rules: Sendable, Equatable {
        var stabilizationWindowSeconds: Int32
        var selectPolicy: SelectPolicy
        var policies: [Policy]

        /// The longest period of any policy: how long scale events must be remembered.
        var longestPeriodSeconds: Int32 { policies.map(\.periodSeconds).max() ?? 0 }
    }

    var scaleUp: Rules
    var scaleDown: Rules

    static let defaultScaleUpPolicies = [Policy(kind: .pods, value: 4, periodSeconds: 15), Policy(kind: .percent, value: 100, periodSeconds: 15)]
    static let defaultScaleDownPolicies = [Policy(kind: .percent, value: 100, periodSeconds: 15)]

    /// The rules Kubernetes applies when `behavior` is present but empty.
    static func defaults(downscaleStabilizationSeconds: Int32) -> ScalingBehavior {
        ScalingBehavior(scaleUp: Rules(stabilizationWindowSeconds: 0, selectPolicy: .max, policies: defaultScaleUpPolicies),
                        scaleDown: Rules(stabilizationWindowSeconds: downscaleStabilizationSeconds, selectPolicy: .max,
                                         policies: defaultScaleDownPolicies))
    }

    /// `spec.behavior` of an autoscaler; nil when absent (Kubernetes then uses its older fixed
    /// rules, see `ReplicaNormalizer.normalizeWithoutBehavior`).
    init?(_ json: JSONValue?, downscaleStabilizationSeconds: Int32) {
        guard let json, json.objectValue != nil else { return nil }
        let d = Self.defaults(downscaleStabilizationSeconds: downscaleStabilizationSeconds)
        scaleUp = Self.rules(json["scaleUp"], defaults: d.scaleUp)
        scaleDown = Self.rules(json["scaleDown"], defaults: d.scaleDown)
    }

    init(scaleUp: Rules, scaleDown: Rules) {
        self.scaleUp = scaleUp
        self.scaleDown = scaleDown
    }

    static func rules(_ json: JSONValue?, defaults: Rules) -> Rules {
        guard let json, json.objectValue != nil else { return defaults }
        var r = defaults
        if let w = json["stabilizationWindowSeconds"]?.intValue { r.stabilizationWindowSeconds = Int32(clamping: w) }
        if let s = json["selectPolicy"]?.stringValue, let p = SelectPolicy(rawValue: s) { r.selectPolicy = p }
        if let list = json["policies"]?.arrayValue {
            r.policies = list.compactMap { p in
                guard let kind = p["type"]?.stringValue.flatMap(Policy.Kind.init(rawValue:)), let v = p["value"]?.intValue,
                      let period = p["periodSeconds"]?.intValue else { return nil }
                return Policy(kind: kind, value: Int32(clamping: v), periodSeconds: Int32(clamping: period))
            }
        }
        return r
    }
}
