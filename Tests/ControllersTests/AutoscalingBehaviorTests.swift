import Foundation
import KubeModel
import Testing
@testable import Controllers

/// Normalization of a proposal as Kubernetes documents `behavior`: stabilization windows in
/// both directions, Pods and Percent policies over their periods, selectPolicy Max/Min/Disabled,
/// the defaults, and the older fixed rules when `behavior` is absent. Time is passed in.
@Suite struct AutoscalingBehaviorTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    typealias N = ReplicaNormalizer
    typealias Policy = ScalingBehavior.Policy

    static func behavior(up: ScalingBehavior.Rules? = nil, down: ScalingBehavior.Rules? = nil, downWindow: Int32 = 0) -> ScalingBehavior {
        var b = ScalingBehavior.defaults(downscaleStabilizationSeconds: downWindow)
        if let up { b.scaleUp = up }
        if let down { b.scaleDown = down }
        return b
    }

    /// Runs the normalizer as the controller does: normalize, then record the rescale.
    static func step(_ history: inout ScalingHistory, _ b: ScalingBehavior, current: Int32, desired: Int32,
                     min: Int32 = 1, max: Int32 = 100, at seconds: TimeInterval) -> N.Result {
        let now = t0.addingTimeInterval(seconds)
        let r = N.normalize(current: current, desired: desired, minReplicas: min, maxReplicas: max, behavior: b, history: &history, now: now)
        history.recordScale(from: current, to: r.replicas, behavior: b, at: now)
        return r
    }

    @Test func defaultScaleUpIsMaxOfFourPodsAndDoublingPer15s() {
        var h = ScalingHistory()
        let b = Self.behavior()
        // 2 → 8 wanted: +4 pods beats +100% (2).
        let first = Self.step(&h, b, current: 2, desired: 8, max: 8, at: 0)
        #expect(first.replicas == 6 && first.limited && first.limit == N.scaleUpLimit)
        // Within the same 15 s period the budget counts from 2: still 6.
        #expect(Self.step(&h, b, current: 6, desired: 8, max: 8, at: 10).replicas == 6)
        // A new period: from 6, max(10, 12) allows 8, the maxReplicas.
        let third = Self.step(&h, b, current: 6, desired: 8, max: 8, at: 16)
        #expect(third.replicas == 8 && !third.limited && third.limit == N.withinRange)
        // Above maxReplicas: TooManyReplicas.
        let capped = Self.step(&h, b, current: 8, desired: 12, max: 8, at: 40)
        #expect(capped.replicas == 8 && capped.limited && capped.limit == N.tooMany)
    }

    @Test func percentPolicyAlone() {
        var h = ScalingHistory()
        let b = Self.behavior(up: .init(stabilizationWindowSeconds: 0, selectPolicy: .max,
                                        policies: [Policy(kind: .percent, value: 50, periodSeconds: 60)]))
        #expect(Self.step(&h, b, current: 10, desired: 30, at: 0).replicas == 15)
        #expect(Self.step(&h, b, current: 15, desired: 30, at: 30).replicas == 15)
        #expect(Self.step(&h, b, current: 15, desired: 30, at: 61).replicas == 23)  // ceil(15 × 1.5)
    }

    @Test func selectPolicyMinAndDisabledOnTheWayUp() {
        let policies = [Policy(kind: .pods, value: 4, periodSeconds: 60), Policy(kind: .percent, value: 100, periodSeconds: 60)]
        var h = ScalingHistory()
        let maxRule = Self.behavior(up: .init(stabilizationWindowSeconds: 0, selectPolicy: .max, policies: policies))
        #expect(Self.step(&h, maxRule, current: 10, desired: 40, at: 0).replicas == 20)
        h = ScalingHistory()
        let minRule = Self.behavior(up: .init(stabilizationWindowSeconds: 0, selectPolicy: .min, policies: policies))
        #expect(Self.step(&h, minRule, current: 10, desired: 40, at: 0).replicas == 14)
        h = ScalingHistory()
        let disabled = Self.behavior(up: .init(stabilizationWindowSeconds: 0, selectPolicy: .disabled, policies: policies))
        let r = Self.step(&h, disabled, current: 10, desired: 40, at: 0)
        #expect(r.replicas == 10 && r.limited && r.limit == N.scaleUpLimit)
        // Disabled in one direction leaves the other alone.
        #expect(Self.step(&h, disabled, current: 10, desired: 3, at: 1).replicas == 3)
    }

    @Test func scaleDownPoliciesAndSelectPolicy() {
        let policies = [Policy(kind: .pods, value: 2, periodSeconds: 60), Policy(kind: .percent, value: 50, periodSeconds: 60)]
        var h = ScalingHistory()
        let maxRule = Self.behavior(down: .init(stabilizationWindowSeconds: 0, selectPolicy: .max, policies: policies))
        // Max picks the larger change: 50% of 10.
        let r = Self.step(&h, maxRule, current: 10, desired: 1, at: 0)
        #expect(r.replicas == 5 && r.limit == N.scaleDownLimit)
        h = ScalingHistory()
        let minRule = Self.behavior(down: .init(stabilizationWindowSeconds: 0, selectPolicy: .min, policies: policies))
        #expect(Self.step(&h, minRule, current: 10, desired: 1, at: 0).replicas == 8)
        // Within the period the budget counts from 10; after it, from 8.
        #expect(Self.step(&h, minRule, current: 8, desired: 1, at: 30).replicas == 8)
        #expect(Self.step(&h, minRule, current: 8, desired: 1, at: 61).replicas == 6)
        // minReplicas bounds it: TooFewReplicas.
        h = ScalingHistory()
        let fast = Self.behavior()
        let floor = Self.step(&h, fast, current: 10, desired: 1, min: 3, at: 0)
        #expect(floor.replicas == 3 && floor.limit == N.tooFew)
        h = ScalingHistory()
        let disabled = Self.behavior(down: .init(stabilizationWindowSeconds: 0, selectPolicy: .disabled, policies: policies))
        #expect(Self.step(&h, disabled, current: 10, desired: 1, at: 0).replicas == 10)
    }

    @Test func scaleDownStabilizationHoldsTheHighestRecentRecommendation() {
        var h = ScalingHistory()
        let b = Self.behavior(downWindow: 300)
        #expect(Self.step(&h, b, current: 10, desired: 10, at: 0).replicas == 10)
        let held = Self.step(&h, b, current: 10, desired: 4, at: 100)
        #expect(held.replicas == 10 && held.ableToScale == N.scaleDownStabilized)
        // 6 seen at 200 s: once the 10 leaves the window, 6 is the highest.
        #expect(Self.step(&h, b, current: 10, desired: 6, at: 200).replicas == 10)
        #expect(Self.step(&h, b, current: 10, desired: 4, at: 301).replicas == 6)
        let done = Self.step(&h, b, current: 6, desired: 4, at: 501)
        #expect(done.replicas == 4 && done.ableToScale == N.readyForNewScale)
    }

    @Test func scaleUpStabilizationHoldsTheLowestRecentRecommendation() {
        var h = ScalingHistory()
        let b = Self.behavior(up: .init(stabilizationWindowSeconds: 60, selectPolicy: .max, policies: ScalingBehavior.defaultScaleUpPolicies))
        #expect(Self.step(&h, b, current: 3, desired: 3, at: 0).replicas == 3)
        let held = Self.step(&h, b, current: 3, desired: 8, at: 30)
        #expect(held.replicas == 3 && held.ableToScale == N.scaleUpStabilized)
        #expect(Self.step(&h, b, current: 3, desired: 8, at: 61).replicas == 7)  // lowest of the window: 8 (recommended at 30 s), rate: +4
    }

    @Test func withoutBehaviorTheOlderFixedRulesApply() {
        var h = ScalingHistory()
        func step(_ current: Int32, _ desired: Int32, min: Int32 = 1, max: Int32 = 20, at s: TimeInterval) -> N.Result {
            N.normalizeWithoutBehavior(current: current, desired: desired, minReplicas: min, maxReplicas: max,
                                       downscaleStabilization: 300, history: &h, now: Self.t0.addingTimeInterval(s))
        }
        // Up: at most max(2 × current, 4).
        let up = step(2, 10, at: 0)
        #expect(up.replicas == 4 && up.limit == N.scaleUpLimit && up.limited)
        #expect(step(4, 10, at: 1).replicas == 8)
        #expect(step(8, 30, max: 12, at: 2).limit == N.tooMany)
        // Down: the highest recommendation of the window (10, 10, 30 above) holds.
        let held = step(20, 5, at: 100)
        #expect(held.replicas == 20 && held.ableToScale == N.scaleDownStabilized)
        #expect(step(20, 5, at: 400).replicas == 5)
        let floor = step(5, 1, min: 2, at: 800)
        #expect(floor.replicas == 2 && floor.limit == N.tooFew)
    }

    @Test func behaviorFromTheObject() {
        let json: JSONValue = ["scaleDown": ["stabilizationWindowSeconds": 10, "selectPolicy": "Min",
                                             "policies": [["type": "Pods", "value": 1, "periodSeconds": 5]]]]
        let b = ScalingBehavior(json, downscaleStabilizationSeconds: 300)
        #expect(b?.scaleDown == .init(stabilizationWindowSeconds: 10, selectPolicy: .min, policies: [Policy(kind: .pods, value: 1, periodSeconds: 5)]))
        #expect(b?.scaleUp == ScalingBehavior.defaults(downscaleStabilizationSeconds: 300).scaleUp)
        // Without a window of its own, scale-down uses the controller's flag.
        #expect(ScalingBehavior(["scaleUp": ["selectPolicy": "Disabled"]], downscaleStabilizationSeconds: 42)?.scaleDown.stabilizationWindowSeconds == 42)
        #expect(ScalingBehavior(nil, downscaleStabilizationSeconds: 300) == nil)
    }
}
