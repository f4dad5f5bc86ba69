// A small, safe expression language for rule conditions and effects: no code execution, no
// loops, no calls beyond a fixed set of pure functions. Compiled once into a stack program that
// evaluates over a block of runs at a time (structure-of-arrays: one tight loop per
// instruction), so interpretation costs are amortised across runs.
//
//   expr   := or
//   or     := and ("or" and)*
//   and    := not ("and" not)*
//   not    := "not" not | cmp
//   cmp    := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
//   sum    := prod (("+" | "-") prod)*
//   prod   := unary (("*" | "/") unary)*
//   unary  := "-" unary | atom
//   atom   := number | name | fn "(" expr ("," expr)* ")" | "(" expr ")"
//   fn     := min | max | abs | clamp           (min/max take 2, abs 1, clamp 3 arguments)
//
// Nesting is bounded: more than kMaxNesting levels of parentheses, "not", unary "-" and function
// calls is a kParseError (no expression can exhaust the parser's stack). Names resolve to state
// slots when compiled. Truth values are 1.0 and 0.0; a condition holds
// where it evaluates to non-zero. Division by zero gives 0 (never inf or NaN in the state).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pulse::sim {

// Runs evaluated together; arrays passed to Evaluate hold at least `count <= kBlock` values.
inline constexpr size_t kBlock = 256;
// Deepest nesting Compile accepts (see above).
inline constexpr int kMaxNesting = 256;

// Where an expression comes from, for error messages ("rules.yaml:12:9: ...").
struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based line of the expression's first character
  int column = 0;  // 1-based column of the expression's first character
};

using SlotResolver = std::function<std::optional<uint32_t>(std::string_view name)>;

class Expr {
 public:
  // kParseError naming file:line:column and what was expected; unknown names are errors too.
  static Result<Expr> Compile(std::string_view text, const SlotResolver& resolve, const SourceLocation& where);

  // out[r] for r < count, where slot s of run r is slots[s][r].
  void Evaluate(const double* const* slots, size_t count, double* out) const;

  const std::string& text() const { return text_; }
  // Slots the expression reads, sorted, without duplicates.
  std::vector<uint32_t> ReadSlots() const;
  // A constant expression's value (no slots read).
  std::optional<double> ConstantValue() const;

  // The compiled program (postfix, one instruction per operation), for other evaluators of the
  // same language such as the CUDA path (src/sim/cuda): Evaluate is the reference semantics.
  enum class Op : uint8_t {
    kConst,
    kLoad,
    kNeg,
    kNot,
    kAdd,
    kSub,
    kMul,
    kDiv,
    kLt,
    kLe,
    kGt,
    kGe,
    kEq,
    kNe,
    kAnd,
    kOr,
    kMin,
    kMax,
    kAbs,
    kClamp
  };
  struct Instr {
    Op op = Op::kConst;
    uint32_t slot = 0;
    double value = 0;
  };
  const std::vector<Instr>& code() const { return code_; }
  size_t max_depth() const { return max_depth_; }

 private:
  friend class ExprParser;
  std::string text_;
  std::vector<Instr> code_;
  size_t max_depth_ = 0;
};

}  // namespace pulse::sim
