import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN
import StitchTensor
import Testing
@testable import StitchAlgorithms

@testable import StitchTraining

/// Log rows average each metric over the updates that reported it (a delayed actor reports on every second one).
@Suite struct MetricAveragesTests {
  @Test func aMetricReportedEverySecondUpdateKeepsItsOwnMean() {
    var averages = MetricAverages()
    #expect(averages.isEmpty)
    for step in 1...10 {
      var m: Metrics = ["critic_loss": Double(step)]
      if step % 2 == 0 { m["actor_loss"] = -1 }
      averages.add(m)
    }
    let row = averages.take()
    #expect(row["critic_loss"] == 5.5)
    #expect(row["actor_loss"] == -1)  // not −0.5, which dividing by all ten updates gave
    #expect(averages.isEmpty && averages.take().isEmpty)
  }
}
