import Foundation
import StitchAlgorithms
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN

import StitchTensor

/// Progress of a long job: a one-line bar with rate and ETA on a terminal, plain periodic lines otherwise
/// (log files and CI output stay readable).
///
/// Writes to standard error so that standard output stays clean for JSON results.
public final class ProgressReporter: @unchecked Sendable {
  public let label: String
  public let total: Int
  public let unit: String
  let interactive: Bool
  let lineInterval: Double
  let start: Double
  var lastPrint: Double
  /// Units already done when this process started (a resumed run): the rate and ETA count only what this
  /// process does, so a run resumed at 90% does not claim thousands of steps per second.
  let initial: Int
  var done = 0
  let lock = NSLock()
  let sink: (String) -> Void

  /// - Parameters:
  ///   - label: what is being done ("td3bc seed 0").
  ///   - total: the number of units the job will do.
  ///   - unit: the unit's name in the rate ("steps").
  ///   - interactive: draw a bar (true) or print lines (false); by default, whether standard error is a terminal.
  ///   - lineInterval: seconds between plain lines when not interactive.
  ///   - startingAt: units done before this process began (the step a resumed run starts from).
  public init(label: String, total: Int, unit: String = "steps", interactive: Bool? = nil, lineInterval: Double = 10,
              startingAt: Int = 0, sink: ((String) -> Void)? = nil) {
    self.label = label
    self.total = max(total, 1)
    self.unit = unit
    self.interactive = interactive ?? (isatty(STDERR_FILENO) == 1)
    self.lineInterval = lineInterval
    self.initial = max(0, startingAt)
    self.done = self.initial
    self.start = ProgressReporter.now()
    self.lastPrint = start
    self.sink = sink ?? { text in FileHandle.standardError.write(Data(text.utf8)) }
  }

  static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

  /// Records that `completed` units are done in all (not an increment); `note` is shown after the rate.
  public func update(_ completed: Int, note: String = "") {
    lock.lock(); defer { lock.unlock() }
    done = completed
    let t = ProgressReporter.now()
    let minGap = interactive ? 0.1 : lineInterval
    guard t - lastPrint >= minGap || completed >= total else { return }
    lastPrint = t
    sink(render(at: t, note: note) + (interactive ? "" : "\n"))
  }

  /// Finishes the bar with a final line.
  public func finish(note: String = "") {
    lock.lock(); defer { lock.unlock() }
    sink(render(at: ProgressReporter.now(), note: note) + "\n")
  }

  func render(at t: Double, note: String) -> String {
    let elapsed = max(t - start, 1e-9)
    let rate = Double(max(0, done - initial)) / elapsed
    let fraction = min(1, Double(done) / Double(total))
    let eta = rate > 0 ? Double(total - done) / rate : .infinity
    let stats = "\(done)/\(total) \(unit)  \(ProgressReporter.rate(rate, unit: unit))  elapsed \(ProgressReporter.clock(elapsed))  ETA \(ProgressReporter.clock(eta))"
    let tail = note.isEmpty ? "" : "  \(note)"
    if interactive {
      let width = 24, filled = Int(fraction * Double(width))
      let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
      return "\r\u{1B}[2K\(label) [\(bar)] \(String(format: "%3.0f", fraction * 100))%  \(stats)\(tail)"
    }
    return "\(label): \(String(format: "%.0f", fraction * 100))%  \(stats)\(tail)"
  }

  static func rate(_ r: Double) -> String { r >= 100 ? String(format: "%.0f", r) : String(format: "%.1f", r) }

  /// The rate per second, or per minute or hour where per second would print as 0.0 (a sweep's cells).
  static func rate(_ r: Double, unit: String) -> String {
    if r >= 0.05 || r == 0 { return "\(rate(r)) \(unit)/s" }
    if r * 60 >= 0.05 { return "\(rate(r * 60)) \(unit)/min" }
    return "\(rate(r * 3600)) \(unit)/h"
  }

  /// Seconds as h:mm:ss or m:ss ("--:--" when unknown).
  public static func clock(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "--:--" }
    let s = Int(seconds.rounded())
    return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
  }
}
