package bench

// WriteReport is writeReport, for the tests of package bench_test.
var WriteReport = writeReport
