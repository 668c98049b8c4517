package dlq

// RunWithTopics is Run for the given event topics (a test's own).
var RunWithTopics = run
