import Foundation

import Stitch

/// Stitch's own benchmark harness: times named kernels and whole commands inside one process.
///
/// Why not ordo-one/benchmark: it needs swift-tools 6.1, a malloc interposer and its own plugin runner, and it
/// measures from outside the `stitch` binary; Stitch's benchmarks must run as `stitch bench ...` on any machine
/// where the binary runs, print one JSON shape that later issues extend, and compare against Python anchors
/// run alternately in the same session. A 100-line harness does that with no dependency and no build cost in CI.
///
/// Method: after a warm-up, the body runs in `samples` batches of repeated calls, each batch lasting about
/// `seconds / samples`; the reported rate is the **median** batch rate (these machines are shared and noisy).
public struct BenchHarness {
  /// Total measuring time per benchmark, in seconds (warm-up excluded).
  public var seconds: Double
  /// Number of timed batches whose median is reported.
  public var samples: Int

  public init(seconds: Double = 2, samples: Int = 7) {
    self.seconds = seconds
    self.samples = max(1, samples)
  }

  /// Median calls per second of `body`, and the spread (min, max) over the timed batches.
  public func rate(_ body: () throws -> Void) rethrows -> (median: Double, min: Double, max: Double) {
    // Warm-up and calibration: find how many calls fill one batch.
    var calls = 1
    var elapsed = 0.0
    while true {
      let start = DispatchTime.now().uptimeNanoseconds
      for _ in 0..<calls { try body() }
      elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      if elapsed >= 0.05 || calls >= 1 << 30 { break }
      calls *= 2
    }
    let perBatch = max(1, Int(Double(calls) * (seconds / Double(samples)) / max(elapsed, 1e-9)))
    var rates: [Double] = []
    for _ in 0..<samples {
      let start = DispatchTime.now().uptimeNanoseconds
      for _ in 0..<perBatch { try body() }
      let t = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      rates.append(Double(perBatch) / max(t, 1e-12))
    }
    rates.sort()
    return (rates[rates.count / 2], rates.first!, rates.last!)
  }

  /// Times `step` and `bare` alternately, `samples` pairs of equally long batches (same call count), and returns
  /// the median step rate and the median over pairs of time(bare) / time(step). Load that comes and goes during
  /// a run (shared machines) hits both halves of a pair alike, so the ratio is far steadier than two rates
  /// measured minutes apart. `bare` is the step's matrix products alone on warm buffers: the ratio is the
  /// "sgemm fraction" of the benchmarks.
  public func pairedFraction(step: () throws -> Void, bare: () throws -> Void) rethrows -> (stepsPerSecond: Double, fraction: Double) {
    var calls = 1
    var elapsed = 0.0
    while true {
      let start = DispatchTime.now().uptimeNanoseconds
      for _ in 0..<calls { try step(); try bare() }
      elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      if elapsed >= 0.05 || calls >= 1 << 30 { break }
      calls *= 2
    }
    let perBatch = max(1, Int(Double(calls) * (seconds / Double(samples)) / max(elapsed, 1e-9)))
    var rates: [Double] = [], ratios: [Double] = []
    for _ in 0..<samples {
      let t0 = DispatchTime.now().uptimeNanoseconds
      for _ in 0..<perBatch { try step() }
      let t1 = DispatchTime.now().uptimeNanoseconds
      for _ in 0..<perBatch { try bare() }
      let t2 = DispatchTime.now().uptimeNanoseconds
      let stepTime = Double(t1 - t0) / 1e9, bareTime = Double(t2 - t1) / 1e9
      rates.append(Double(perBatch) / max(stepTime, 1e-12))
      ratios.append(bareTime / max(stepTime, 1e-12))
    }
    rates.sort(); ratios.sort()
    return (rates[rates.count / 2], ratios[ratios.count / 2])
  }
}

/// One benchmark figure, in the JSON shape every `stitch bench` subcommand shares:
/// {"name", "steps_per_second", "gflops", "sgemm_fraction", "threads", ...extra}.
public struct BenchResult {
  public var name: String
  public var stepsPerSecond: Double
  public var gflops: Double?
  public var sgemmFraction: Double?
  public var threads: Int
  /// Further fields a subcommand adds (e.g. "anchor_steps_per_second", "ratio_to_anchor").
  public var extra: [(String, Double)] = []

  var json: JSONText {
    var pairs: [(String, JSONText)] = [
      ("name", .string(name)), ("steps_per_second", .number(stepsPerSecond)),
      ("gflops", gflops.map(JSONText.number) ?? .null),
      ("sgemm_fraction", sgemmFraction.map(JSONText.number) ?? .null),
      ("threads", .integer(threads)),
    ]
    for (k, v) in extra { pairs.append((k, .number(v))) }
    return .object(pairs)
  }
}

/// Prints benchmark results as one JSON object or as an aligned table.
enum BenchReport {
  static func print(_ results: [BenchResult], json: Bool) {
    if json {
      let object = JSONText.object([
        ("results", .array(results.map(\.json))),
        ("machine", .object(MachineInfo.current().jsonFields)),
      ])
      Swift.print(object)
      return
    }
    let extraKeys = results.flatMap { $0.extra.map(\.0) }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
    var rows = [["name", "steps/s", "GFLOP/s", "sgemm frac", "threads"] + extraKeys]
    for r in results {
      var row = [r.name, format(r.stepsPerSecond), r.gflops.map(format) ?? "-", r.sgemmFraction.map { format($0) } ?? "-", String(r.threads)]
      for k in extraKeys { row.append(r.extra.first { $0.0 == k }.map { format($0.1) } ?? "-") }
      rows.append(row)
    }
    let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max()! }
    for row in rows {
      Swift.print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  "))
    }
    Swift.print("machine: " + MachineInfo.current().fields.filter { ["cpu", "openblas_core", "sgemm_driver", "sgemm_plan"].contains($0.0) }.map { "\($0.0)=\($0.1)" }.joined(separator: ", "))
  }

  static func format(_ x: Double) -> String {
    if x >= 1000 { return String(format: "%.0f", x) }
    if x >= 10 { return String(format: "%.1f", x) }
    return String(format: "%.3f", x)
  }
}
