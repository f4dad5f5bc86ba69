"""The replica arithmetic of the Kubernetes HorizontalPodAutoscaler (autoscaling/v2) and of KEDA's
ScaledObject, as their documentation states it, to replay metric traces against the chart's values.

HPA (kubernetes.io "Horizontal Pod Autoscaling", algorithm details and configurable behaviour):
- every sync period (15 s) each metric proposes ceil(metric total / per-replica target) replicas
  (an AverageValue target: KEDA's external metrics; a CPU Utilization target works out the same
  with total = cores used and target = request x utilisation); with several metrics the largest
  proposal wins; a usage ratio within the tolerance (0.1) of 1 proposes the current count;
- stabilisation: the recommendation is the current count moved no further than the lowest
  proposal of the scale-up window (default 0 s) and the highest of the scale-down window
  (default 300 s);
- rate policies (defaults: up by max(100 %, 4 pods) per 15 s; down by 100 % per 15 s), counting
  the changes already made within each policy's period; then minReplicas / maxReplicas.
KEDA (keda.sh "ScaledObject specification", "Scaling Deployments"): the HPA it creates has
minReplicas max(minReplicaCount, 1); with minReplicaCount 0, KEDA itself moves 0 -> 1 when a
trigger is active (its metric above the activation threshold, checked every pollingInterval) and
1.. -> 0 after cooldownPeriod without an active trigger.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

DEFAULT_SCALE_UP = {"stabilizationWindowSeconds": 0, "selectPolicy": "Max",
                    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15},
                                 {"type": "Pods", "value": 4, "periodSeconds": 15}]}
DEFAULT_SCALE_DOWN = {"stabilizationWindowSeconds": 300, "selectPolicy": "Max",
                      "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}
TOLERANCE = 0.1
SYNC_SECONDS = 15


def proposal(current: int, total: float, target: float, tolerance: float = TOLERANCE) -> int:
    """One metric's proposed replicas: ceil(total / target), or `current` within the tolerance."""
    if current == 0:
        return math.ceil(total / target)
    ratio = total / (target * current)
    if abs(ratio - 1.0) <= tolerance:
        return current
    return math.ceil(total / target)


@dataclass
class Hpa:
    min_replicas: int
    max_replicas: int
    scale_up: dict = field(default_factory=lambda: dict(DEFAULT_SCALE_UP))
    scale_down: dict = field(default_factory=lambda: dict(DEFAULT_SCALE_DOWN))
    tolerance: float = TOLERANCE
    recommendations: list = field(default_factory=list)  # (time, proposal)
    events: list = field(default_factory=list)           # (time, replica change)

    def _stabilise(self, now: float, current: int, desired: int) -> int:
        up_cut = now - self.scale_up["stabilizationWindowSeconds"]
        down_cut = now - self.scale_down["stabilizationWindowSeconds"]
        up, down = desired, desired
        for t, rec in self.recommendations:
            if t > up_cut:
                up = min(up, rec)
            if t > down_cut:
                down = max(down, rec)
        self.recommendations.append((now, desired))
        rec = current
        if rec < up:
            rec = up
        if rec > down:
            rec = down
        return rec

    def _changed_within(self, now: float, period: float, sign: int) -> int:
        return sum(abs(d) for t, d in self.events if t > now - period and (d > 0) == (sign > 0))

    def _limit(self, now: float, current: int, rules: dict, up: bool) -> int:
        pick = max if rules.get("selectPolicy", "Max") == "Max" else min
        if not up:  # for scaling down the "largest change" is the lowest count
            pick = min if pick is max else max
        result = None
        for p in rules["policies"]:
            added = self._changed_within(now, p["periodSeconds"], +1)
            removed = self._changed_within(now, p["periodSeconds"], -1)
            start = current - added + removed
            if up:
                proposed = start + p["value"] if p["type"] == "Pods" else math.ceil(start * (1 + p["value"] / 100))
            else:
                proposed = start - p["value"] if p["type"] == "Pods" else int(start * (1 - p["value"] / 100))
            result = proposed if result is None else pick(result, proposed)
        return result

    def step(self, now: float, current: int, proposals: list[int]) -> int:
        """The replica count the HPA sets at `now`, given each metric's proposal."""
        desired = self._stabilise(now, current, max(proposals))
        lo, hi = self.min_replicas, self.max_replicas
        if desired > current:
            hi = min(hi, max(self._limit(now, current, self.scale_up, True), current))
        elif desired < current:
            lo = max(lo, min(self._limit(now, current, self.scale_down, False), current))
        new = min(max(desired, lo), hi)
        if new != current:
            self.events.append((now, new - current))
        return new


@dataclass
class ScaledObject:
    """A KEDA ScaledObject over one or more triggers sharing a per-replica target."""
    min_replicas: int
    max_replicas: int
    target: float
    activation: float
    polling_interval: float
    cooldown_period: float
    scale_down_window: float
    replicas: int = 0
    last_active: float = -1e18

    def __post_init__(self):
        down = dict(DEFAULT_SCALE_DOWN, stabilizationWindowSeconds=self.scale_down_window)
        self.hpa = Hpa(max(self.min_replicas, 1), self.max_replicas, scale_down=down)
        self.replicas = self.min_replicas

    def tick(self, now: float, metrics: list[float]) -> int:
        """Advance to `now` (a multiple of the HPA sync period) with each trigger's metric total."""
        active = any(m > self.activation for m in metrics)
        if active:
            self.last_active = now
        if now % self.polling_interval == 0:  # KEDA's own loop: activation and scale to zero
            if self.replicas == 0 and active:
                self.replicas = max(self.min_replicas, 1)
                return self.replicas
            if (self.replicas > 0 and self.min_replicas == 0 and not active
                    and now - self.last_active >= self.cooldown_period):
                self.replicas = 0
                return 0
        if self.replicas > 0:  # the HPA's loop
            props = [proposal(self.replicas, m, self.target) for m in metrics]
            self.replicas = self.hpa.step(now, self.replicas, props)
        return self.replicas
