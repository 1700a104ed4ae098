import Foundation
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN
import StitchTensor
import Testing
@testable import StitchAlgorithms

@testable import StitchTraining

@Suite struct LearningCurvePlotTests {
  @Test func bandIsMeanPlusMinusSampleStd() {
    var plot = LearningCurvePlot(title: "t", curves: [])
    let curve = LearningCurvePlot.Curve(label: "td3bc", points: [(step: 10, values: [1, 2, 3]), (step: 0, values: [4])])
    let band = plot.band(of: curve)
    #expect(band.map(\.step) == [0, 10])
    #expect(band[1].mean == 2)
    #expect(abs(band[1].high - 3) < 1e-12 && abs(band[1].low - 1) < 1e-12)  // sample std of 1,2,3 is 1
    #expect(band[0].low == 4 && band[0].high == 4)
    plot.spread = .minMax
    #expect(plot.band(of: LearningCurvePlot.Curve(label: "x", points: [(step: 1, values: [5, -1, .nan])]))[0].low == -1)
  }

  @Test func svgHasOneLineAndBandPerCurveAndEscapesLabels() {
    let curves = [
      LearningCurvePlot.Curve(label: "IQL <seed avg>", points: (0...4).map { (step: Double($0) * 5000, values: [Double($0), Double($0) + 2]) }),
      LearningCurvePlot.Curve(label: "BC", points: (0...4).map { (step: Double($0) * 5000, values: [1.0]) }),
    ]
    let svg = LearningCurvePlot(title: "hopper & co", curves: curves).svg()
    #expect(svg.hasPrefix("<svg"))
    #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
    #expect(svg.components(separatedBy: "<polygon").count - 1 == 2)
    #expect(svg.contains("IQL &lt;seed avg&gt;"))
    #expect(svg.contains("hopper &amp; co"))
    #expect(svg.contains(">20k<"))
  }

  @Test func referenceLinesAreDashedLabelledAndWidenTheAxis() {
    var plot = LearningCurvePlot(title: "t", curves: [
      LearningCurvePlot.Curve(label: "cql", points: [(step: 0, values: [40]), (step: 1000, values: [45])]),
    ])
    plot.references = [(label: "behaviour", value: 41.1), (label: "best <ref>", value: 90)]
    let svg = plot.svg()
    #expect(svg.components(separatedBy: "stroke-dasharray").count - 1 == 4)  // a line and a legend mark each
    #expect(svg.contains(">behaviour 41.1<"))
    #expect(svg.contains(">best &lt;ref&gt; 90<"))
    #expect(svg.contains(">90<") || svg.contains(">100<"))  // the y axis reaches the reference at 90
  }

  @Test func ticksAreRoundAndCoverTheRange() {
    let t = LearningCurvePlot.niceTicks(3, 97)
    #expect(t.first! <= 3 && t.last! >= 97)
    #expect(t == [0, 20, 40, 60, 80, 100])
  }
}
