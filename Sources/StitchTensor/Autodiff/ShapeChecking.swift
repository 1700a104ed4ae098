#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs `body` (inference: forward passes, no gradients) so that a shape error inside it throws
/// `TensorError.shapeMismatch`, naming the operation and the shapes, instead of stopping the program.
///
/// Public entry points that take a library caller's tensors (`BehaviourPolicy.act`, an algorithm's actions for
/// evaluation) wrap their work in it. As inside `valueWithGradient`, the first error is kept and the failing
/// operation returns zeros so the rest of `body` runs to its end; its result is then discarded. Inside a
/// recording tape the tape keeps the error as before (and `valueWithGradient` throws it); `withoutGradients`
/// within `body` still reports here. Costs one thread-local write on entry and exit.
public func checkingShapes<R>(_ body: () throws -> R) throws -> R {
  let scope = ShapeCheckScope()
  let saved = ShapeCheckScope.current
  ShapeCheckScope.setCurrent(scope)
  let result: R
  do {
    defer { ShapeCheckScope.setCurrent(saved) }
    result = try body()
  }
  if let message = scope.firstError { throw TensorError.shapeMismatch(message) }
  return result
}

/// The innermost `checkingShapes` call of a thread and the first shape error reported in it.
final class ShapeCheckScope {
  var firstError: String?

  static let key: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
  }()

  static var current: ShapeCheckScope? {
    guard let p = pthread_getspecific(key) else { return nil }
    return Unmanaged<ShapeCheckScope>.fromOpaque(p).takeUnretainedValue()
  }

  static func setCurrent(_ scope: ShapeCheckScope?) {
    pthread_setspecific(key, scope.map { Unmanaged.passUnretained($0).toOpaque() })
  }
}
