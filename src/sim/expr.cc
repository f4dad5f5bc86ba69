#include "sim/expr.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>

#include "core/printable.h"

namespace pulse::sim {

// Recursive-descent parser emitting postfix code; tracks stack depth as it goes.
class ExprParser {
 public:
  ExprParser(std::string_view text, const SlotResolver& resolve, const SourceLocation& where)
      : text_(text), resolve_(resolve), where_(where) {}

  Result<Expr> Parse() {
    Expr out;
    out.text_ = std::string(text_);
    code_ = &out.code_;
    Next();
    PULSE_RETURN_IF_ERROR(ParseOr());
    if (token_.kind != Kind::kEnd) return Error("unexpected '" + Printable(token_.text, 40) + "'");
    out.max_depth_ = max_depth_;
    return out;
  }

 private:
  enum class Kind { kEnd, kNumber, kName, kSymbol };
  struct Token {
    Kind kind = Kind::kEnd;
    std::string_view text;
    size_t pos = 0;
  };
  using Op = Expr::Op;

  Status Error(const std::string& message) const {
    // Expressions are single-line YAML scalars: the column is the start column plus the offset.
    return Status::ParseError(Printable(where_.file) + ":" + std::to_string(where_.line) + ":" +
                              std::to_string(where_.column + static_cast<int64_t>(token_.pos)) + ": " + message +
                              " in '" + Printable(text_, 120) + "'");
  }

  // Bounds the parser's recursion: one level per "not", unary "-", "(" and function call.
  class Nesting {
   public:
    explicit Nesting(ExprParser& p) : p_(p) { ++p_.nesting_; }
    ~Nesting() { --p_.nesting_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;
    bool too_deep() const { return p_.nesting_ > kMaxNesting; }

   private:
    ExprParser& p_;
  };
  Status TooDeep() const {
    return Error("expression nested deeper than " + std::to_string(kMaxNesting) +
                 " levels (parentheses, not, unary minus and calls count)");
  }

  void Next() {
    size_t i = pos_;
    while (i < text_.size() && std::isspace(static_cast<unsigned char>(text_[i]))) ++i;
    token_ = Token{Kind::kEnd, {}, i};
    if (i >= text_.size()) {
      pos_ = i;
      return;
    }
    const char c = text_[i];
    size_t j = i + 1;
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      while (j < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[j])) || text_[j] == '.' ||
              ((text_[j] == '-' || text_[j] == '+') && (text_[j - 1] == 'e' || text_[j - 1] == 'E'))))
        ++j;
      token_.kind = Kind::kNumber;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      while (j < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[j])) || text_[j] == '_' || text_[j] == '.'))
        ++j;
      token_.kind = Kind::kName;
    } else {
      if (j < text_.size() && text_[j] == '=' && (c == '<' || c == '>' || c == '=' || c == '!')) ++j;
      token_.kind = Kind::kSymbol;
    }
    token_.text = text_.substr(i, j - i);
    pos_ = j;
  }

  bool Accept(std::string_view symbol) {
    if ((token_.kind == Kind::kSymbol || token_.kind == Kind::kName) && token_.text == symbol) {
      Next();
      return true;
    }
    return false;
  }

  void Emit(Op op, int depth_change, uint32_t slot = 0, double value = 0) {
    code_->push_back({op, slot, value});
    depth_ = static_cast<size_t>(static_cast<long>(depth_) + depth_change);
    max_depth_ = std::max(max_depth_, depth_);
  }

  // Binary operators by precedence (higher binds tighter); comparisons do not chain.
  static constexpr int kOrLevel = 1, kAndLevel = 2, kNotLevel = 3, kCompareLevel = 4, kSumLevel = 5, kProductLevel = 6;
  struct Binary {
    std::string_view symbol;
    Op op;
    int level;
  };
  static constexpr std::array<Binary, 12> kBinary = {{{"or", Op::kOr, kOrLevel},
                                                      {"and", Op::kAnd, kAndLevel},
                                                      {"<=", Op::kLe, kCompareLevel},
                                                      {">=", Op::kGe, kCompareLevel},
                                                      {"==", Op::kEq, kCompareLevel},
                                                      {"!=", Op::kNe, kCompareLevel},
                                                      {"<", Op::kLt, kCompareLevel},
                                                      {">", Op::kGt, kCompareLevel},
                                                      {"+", Op::kAdd, kSumLevel},
                                                      {"-", Op::kSub, kSumLevel},
                                                      {"*", Op::kMul, kProductLevel},
                                                      {"/", Op::kDiv, kProductLevel}}};

  const Binary* PeekBinary() const {
    if (token_.kind != Kind::kSymbol && token_.kind != Kind::kName) return nullptr;
    for (const Binary& b : kBinary)
      if (token_.text == b.symbol) return &b;
    return nullptr;
  }

  // Precedence climbing over the grammar in expr.h: one stack frame per operand level instead of
  // one per grammar rule, so the nesting limit costs little stack.
  Status ParseExpr(int min_level) {
    int max_level = kProductLevel;
    if (min_level <= kNotLevel && Accept("not")) {
      // not := "not" not | cmp ; what follows a "not" operand is "and" / "or" only.
      const Nesting level(*this);
      if (level.too_deep()) return TooDeep();
      PULSE_RETURN_IF_ERROR(ParseExpr(kNotLevel));
      Emit(Op::kNot, 0);
      max_level = kAndLevel;
    } else {
      PULSE_RETURN_IF_ERROR(ParseUnary());
    }
    bool compared = false;
    for (const Binary* b = PeekBinary(); b && b->level >= min_level && b->level <= max_level; b = PeekBinary()) {
      if (b->level == kCompareLevel && compared) break;  // a < b < c: left for the caller to refuse
      compared = compared || b->level == kCompareLevel;
      const Op op = b->op;
      const int next = b->level + 1;
      Next();
      PULSE_RETURN_IF_ERROR(ParseExpr(next));
      Emit(op, -1);
    }
    return Status::Ok();
  }
  Status ParseOr() { return ParseExpr(kOrLevel); }

  Status ParseUnary() {
    if (Accept("-")) {
      const Nesting level(*this);
      if (level.too_deep()) return TooDeep();
      PULSE_RETURN_IF_ERROR(ParseUnary());
      Emit(Op::kNeg, 0);
      return Status::Ok();
    }
    return ParseAtom();
  }
  Status ParseAtom() {
    if (token_.kind == Kind::kEnd) return Error("expected a value at the end");
    if (token_.kind == Kind::kNumber) {
      double v = 0;
      const auto [end, ec] = std::from_chars(token_.text.data(), token_.text.data() + token_.text.size(), v);
      if (ec != std::errc() || end != token_.text.data() + token_.text.size() || !std::isfinite(v))
        return Error("bad number '" + Printable(token_.text, 40) + "'");
      Emit(Op::kConst, 1, 0, v);
      Next();
      return Status::Ok();
    }
    if (Accept("(")) {
      const Nesting level(*this);
      if (level.too_deep()) return TooDeep();
      PULSE_RETURN_IF_ERROR(ParseOr());
      if (!Accept(")")) return Error("expected ')'");
      return Status::Ok();
    }
    if (token_.kind != Kind::kName)
      return Error("expected a number, a name or '(' but found '" + Printable(token_.text, 40) + "'");
    const std::string name(token_.text);
    static constexpr std::array<std::tuple<std::string_view, Op, int>, 4> kFunctions = {
        {{"min", Op::kMin, 2}, {"max", Op::kMax, 2}, {"abs", Op::kAbs, 1}, {"clamp", Op::kClamp, 3}}};
    for (const auto& [fn, op, arity] : kFunctions) {
      if (name != fn) continue;
      Next();
      if (!Accept("(")) return Error("expected '(' after " + name);
      const Nesting level(*this);
      if (level.too_deep()) return TooDeep();
      for (int a = 0; a < arity; ++a) {
        if (a > 0 && !Accept(",")) return Error(name + " takes " + std::to_string(arity) + " arguments");
        PULSE_RETURN_IF_ERROR(ParseOr());
      }
      if (!Accept(")")) return Error(name + " takes " + std::to_string(arity) + " arguments; expected ')'");
      Emit(op, 1 - arity);
      return Status::Ok();
    }
    if (name == "and" || name == "or" || name == "not") return Error("'" + name + "' needs a value before/after it");
    const auto slot = resolve_(name);
    if (!slot) return Error("unknown name '" + Printable(name, 80) + "'");
    Emit(Op::kLoad, 1, *slot);
    Next();
    return Status::Ok();
  }

  std::string_view text_;
  const SlotResolver& resolve_;
  const SourceLocation& where_;
  size_t pos_ = 0;
  Token token_;
  std::vector<Expr::Instr>* code_ = nullptr;
  size_t depth_ = 0, max_depth_ = 0;
  int nesting_ = 0;
};

Result<Expr> Expr::Compile(std::string_view text, const SlotResolver& resolve, const SourceLocation& where) {
  return ExprParser(text, resolve, where).Parse();
}

void Expr::Evaluate(const double* const* slots, size_t count, double* out) const {
  // A stack of blocks; the bottom entry is the output itself.
  constexpr size_t kMaxInline = 16;
  double inline_stack[kMaxInline][kBlock];
  std::vector<double> heap;
  double* base = &inline_stack[0][0];
  if (max_depth_ > kMaxInline) {
    heap.resize(max_depth_ * kBlock);
    base = heap.data();
  }
  auto at = [&](size_t depth) { return depth == 0 ? out : base + depth * kBlock; };
  size_t top = 0;  // number of entries on the stack
  for (const Instr& in : code_) {
    switch (in.op) {
      case Op::kConst: {
        double* d = at(top++);
        for (size_t r = 0; r < count; ++r) d[r] = in.value;
        break;
      }
      case Op::kLoad: {
        double* d = at(top++);
        const double* s = slots[in.slot];
        for (size_t r = 0; r < count; ++r) d[r] = s[r];
        break;
      }
      case Op::kNeg: {
        double* d = at(top - 1);
        for (size_t r = 0; r < count; ++r) d[r] = -d[r];
        break;
      }
      case Op::kNot: {
        double* d = at(top - 1);
        for (size_t r = 0; r < count; ++r) d[r] = d[r] == 0 ? 1.0 : 0.0;
        break;
      }
      case Op::kAbs: {
        double* d = at(top - 1);
        for (size_t r = 0; r < count; ++r) d[r] = std::abs(d[r]);
        break;
      }
      case Op::kClamp: {
        double *x = at(top - 3), *lo = at(top - 2), *hi = at(top - 1);
        for (size_t r = 0; r < count; ++r) x[r] = std::min(std::max(x[r], lo[r]), hi[r]);
        top -= 2;
        break;
      }
      default: {
        double *a = at(top - 2), *b = at(top - 1);
        switch (in.op) {
          case Op::kAdd:
            for (size_t r = 0; r < count; ++r) a[r] += b[r];
            break;
          case Op::kSub:
            for (size_t r = 0; r < count; ++r) a[r] -= b[r];
            break;
          case Op::kMul:
            for (size_t r = 0; r < count; ++r) a[r] *= b[r];
            break;
          case Op::kDiv:
            for (size_t r = 0; r < count; ++r) a[r] = b[r] != 0 ? a[r] / b[r] : 0.0;
            break;
          case Op::kLt:
            for (size_t r = 0; r < count; ++r) a[r] = a[r] < b[r] ? 1.0 : 0.0;
            break;
          case Op::kLe:
            for (size_t r = 0; r < count; ++r) a[r] = a[r] <= b[r] ? 1.0 : 0.0;
            break;
          case Op::kGt:
            for (size_t r = 0; r < count; ++r) a[r] = a[r] > b[r] ? 1.0 : 0.0;
            break;
          case Op::kGe:
            for (size_t r = 0; r < count; ++r) a[r] = a[r] >= b[r] ? 1.0 : 0.0;
            break;
          case Op::kEq:
            for (size_t r = 0; r < count; ++r) a[r] = a[r] == b[r] ? 1.0 : 0.0;
            break;
          case Op::kNe:
            for (size_t r = 0; r < count; ++r) a[r] = a[r] != b[r] ? 1.0 : 0.0;
            break;
          case Op::kAnd:
            for (size_t r = 0; r < count; ++r) a[r] = (a[r] != 0 && b[r] != 0) ? 1.0 : 0.0;
            break;
          case Op::kOr:
            for (size_t r = 0; r < count; ++r) a[r] = (a[r] != 0 || b[r] != 0) ? 1.0 : 0.0;
            break;
          case Op::kMin:
            for (size_t r = 0; r < count; ++r) a[r] = std::min(a[r], b[r]);
            break;
          case Op::kMax:
            for (size_t r = 0; r < count; ++r) a[r] = std::max(a[r], b[r]);
            break;
          default: break;
        }
        --top;
        break;
      }
    }
  }
}

std::vector<uint32_t> Expr::ReadSlots() const {
  std::vector<uint32_t> out;
  for (const Instr& in : code_)
    if (in.op == Op::kLoad) out.push_back(in.slot);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::optional<double> Expr::ConstantValue() const {
  if (code_.size() == 1 && code_[0].op == Op::kConst) return code_[0].value;
  return std::nullopt;
}

}  // namespace pulse::sim
