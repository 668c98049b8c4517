package platform

import (
	"fmt"
	"strings"
)

// platformDefaults are KEDA's (event functions) and Knative's (HTTP
// functions) defaults of each parameter, shown beside ours.
var platformDefaults = map[string]string{
	"minReplicaCount":              "KEDA 0",
	"maxReplicaCount":              "KEDA 100",
	"pollingInterval":              "KEDA 30s",
	"cooldownPeriod":               "KEDA 300s",
	"scaleDownStabilizationWindow": "HPA 300s",
	"lagThreshold":                 "KEDA 5",
	"activationLagThreshold":       "KEDA 0",
	"minScale":                     "Knative 0",
	"maxScale":                     "Knative 0 = unlimited",
	"containerConcurrency":         "Knative target 100",
	"targetUtilizationPercentage":  "Knative 70",
	"stableWindow":                 "Knative 60s",
	"scaleDownDelay":               "Knative 0s",
	"scaleToZeroGracePeriod":       "Knative 30s",
	"activatorTimeout":             "Knative: the revision timeout, 300s",
	"schedule":                     "PingSource, EventBridge, CronJob: 1m at the shortest",
}

// Describe is the function's scaling parameters on one line, each with the
// real platform's default beside it, e.g. "cooldownPeriod 10s (KEDA 300s)".
func (f FunctionConfig) Describe() string {
	var params [][2]string
	switch f.Kind {
	case KindEvent:
		params = [][2]string{
			{"minReplicaCount", fmt.Sprint(f.MinReplicaCount)},
			{"maxReplicaCount", fmt.Sprint(f.MaxReplicaCount)},
			{"pollingInterval", f.PollingInterval.String()},
			{"cooldownPeriod", f.CooldownPeriod.String()},
			{"scaleDownStabilizationWindow", f.ScaleDownStabilizationWindow.String()},
			{"lagThreshold", fmt.Sprint(f.LagThreshold)},
			{"activationLagThreshold", fmt.Sprint(f.ActivationLagThreshold)},
		}
	case KindHTTP:
		params = [][2]string{
			{"minScale", fmt.Sprint(f.MinScale)},
			{"maxScale", fmt.Sprint(f.MaxScale)},
			{"containerConcurrency", fmt.Sprint(f.ContainerConcurrency)},
			{"targetUtilizationPercentage", fmt.Sprint(f.TargetUtilization)},
			{"stableWindow", f.StableWindow.String()},
			{"scaleDownDelay", f.ScaleDownDelay.String()},
			{"scaleToZeroGracePeriod", f.ScaleToZeroGracePeriod.String()},
			{"activatorTimeout", f.ActivatorTimeout.String()},
		}
		if f.Schedule.Duration > 0 {
			params = append(params, [2]string{"schedule", f.Schedule.String()})
		}
	}
	parts := make([]string, len(params))
	for i, p := range params {
		parts[i] = fmt.Sprintf("%s %s (%s)", p[0], p[1], platformDefaults[p[0]])
	}
	return string(f.Kind) + ": " + strings.Join(parts, ", ")
}
