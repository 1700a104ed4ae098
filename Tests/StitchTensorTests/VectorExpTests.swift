import Foundation
import Testing

@testable import StitchTensor

/// `vectorExp` against double-precision exp: 2.5e-7 relative on the float range it covers, the documented
/// values outside it, NaN kept.
@Suite struct VectorExpTests {
  @Test func accuracy() {
    var worst = 0.0
    var x: Float = -87.3
    while x < 88.72 {
      let exact = Foundation.exp(Double(x))
      worst = max(worst, abs(Double(vectorExp(x)) - exact) / exact)
      x = x.nextUp + (x.magnitude > 1 ? 0.00731 : 0.0000731)
    }
    #expect(worst < 2.5e-7, "worst relative error \(worst)")
    #expect(vectorExp(0) == 1)
    #expect(vectorExp(89) == .infinity && vectorExp(-200) == 0 && vectorExp(.infinity) == .infinity && vectorExp(-.infinity) == 0)
    #expect(vectorExp(.nan).isNaN)
    let near = vectorExp(88.7), nearExact = Foundation.exp(Double(Float(88.7)))
    #expect(abs(Double(near) - nearExact) / nearExact < 1e-6)
  }
}
