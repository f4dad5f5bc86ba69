// The CUDA path of the Monte Carlo turns (sim/gpu.h): one device thread per run interprets the
// compiled rule programs and draws the turn's noise from the run's own Philox stream. Every
// operation mirrors its CPU reference (Expr::Evaluate, TurnEngine::Run, CounterRng::Normal,
// the shock in RunMonteCarlo), including std::min/std::max/std::clamp's comparison order, and
// the file is compiled with --fmad=false so no multiply-add is fused.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "core/random.h"
#include "sim/gpu.h"

namespace pulse::sim {
namespace {

constexpr int kMaxStack = 32;  // deeper rule programs stay on the CPU

struct DevInstr {
  int op;
  uint32_t slot;
  double value;
};
struct DevEffect {
  uint32_t target;
  int op;       // 0 add, 1 set, 2 scale
  int bound;    // 0 none, 1 clamp to [0, 1] (overlay), 2 floor at 0 (capital)
  int skip;     // overlay effect with the symbolic switch off: a no-op
  int code, length;
  double mod;
};
struct DevRule {
  uint32_t index;  // RuleSet index, for the fired counts
  int when, when_length;
  int effects, effect_count;
};
struct DevNoise {
  uint32_t slot;
  double sd, lo, hi;
};

__device__ double Min(double a, double b) { return b < a ? b : a; }  // std::min(a, b)
__device__ double Max(double a, double b) { return a < b ? b : a; }  // std::max(a, b)

__device__ double Run(const DevInstr* code, int length, const double* x, size_t stride, size_t r) {
  double stack[kMaxStack];
  int top = 0;
  for (int i = 0; i < length; ++i) {
    const DevInstr in = code[i];
    switch (in.op) {
      case 0: stack[top++] = in.value; break;                    // kConst
      case 1: stack[top++] = x[in.slot * stride + r]; break;     // kLoad
      case 2: stack[top - 1] = -stack[top - 1]; break;           // kNeg
      case 3: stack[top - 1] = stack[top - 1] == 0 ? 1.0 : 0.0; break;  // kNot
      case 18: stack[top - 1] = fabs(stack[top - 1]); break;     // kAbs
      case 19: {                                                 // kClamp
        stack[top - 3] = Min(Max(stack[top - 3], stack[top - 2]), stack[top - 1]);
        top -= 2;
        break;
      }
      default: {
        const double a = stack[top - 2], b = stack[top - 1];
        double v = 0;
        switch (in.op) {
          case 4: v = a + b; break;
          case 5: v = a - b; break;
          case 6: v = a * b; break;
          case 7: v = b != 0 ? a / b : 0.0; break;
          case 8: v = a < b ? 1.0 : 0.0; break;
          case 9: v = a <= b ? 1.0 : 0.0; break;
          case 10: v = a > b ? 1.0 : 0.0; break;
          case 11: v = a >= b ? 1.0 : 0.0; break;
          case 12: v = a == b ? 1.0 : 0.0; break;
          case 13: v = a != b ? 1.0 : 0.0; break;
          case 14: v = (a != 0 && b != 0) ? 1.0 : 0.0; break;
          case 15: v = (a != 0 || b != 0) ? 1.0 : 0.0; break;
          case 16: v = Min(a, b); break;
          case 17: v = Max(a, b); break;
          default: break;
        }
        stack[top - 2] = v;
        --top;
        break;
      }
    }
  }
  return stack[0];
}

// Philox4x32-10 and the ziggurat, as core/random.cc.
struct DevRng {
  uint32_t key0, key1, ctr0, ctr1, ctr2, ctr3;
  uint32_t block[4];
  int used;
  __device__ void Refill() {
    uint32_t x0 = ctr0, x1 = ctr1, x2 = ctr2, x3 = ctr3, k0 = key0, k1 = key1;
    for (int round = 0; round < 10; ++round) {
      const unsigned long long p0 = 0xD2511F53ull * x0, p1 = 0xCD9E8D57ull * x2;
      const uint32_t y0 = static_cast<uint32_t>(p1 >> 32) ^ x1 ^ k0, y2 = static_cast<uint32_t>(p0 >> 32) ^ x3 ^ k1;
      x1 = static_cast<uint32_t>(p1), x3 = static_cast<uint32_t>(p0), x0 = y0, x2 = y2;
      k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;
    }
    block[0] = x0, block[1] = x1, block[2] = x2, block[3] = x3;
    ++ctr0;
    used = 0;
  }
  __device__ uint32_t Next32() {
    if (used == 4) Refill();
    return block[used++];
  }
  __device__ unsigned long long Next64() {
    const unsigned long long hi = Next32();
    return (hi << 32) | Next32();
  }
  __device__ double Uniform() { return static_cast<double>(Next64() >> 11) * 0x1.0p-53; }
};

__device__ double Normal(DevRng& rng, const double* zx, const double* ratio) {
  constexpr double kR = 3.6541528853610088;
  for (;;) {
    const unsigned long long bits = rng.Next64();
    const int i = static_cast<int>(bits & 255);
    const double u = 2.0 * static_cast<double>(bits >> 11) * 0x1.0p-53 - 1.0;
    if (fabs(u) < ratio[i]) return u * zx[i];
    if (i == 0) {
      double a, b;
      do {
        a = -log(1.0 - rng.Uniform()) / kR;
        b = -log(1.0 - rng.Uniform());
      } while (b + b < a * a);
      return u < 0 ? -(kR + a) : kR + a;
    }
    const double v = u * zx[i];
    const double f0 = exp(-0.5 * (zx[i] * zx[i] - v * v)), f1 = exp(-0.5 * (zx[i + 1] * zx[i + 1] - v * v));
    if (f1 + rng.Uniform() * (f0 - f1) < 1.0) return v;
  }
}

struct DevProgram {
  const DevInstr* code;
  const DevRule* rules;
  int rule_count;
  const DevEffect* effects;
  const uint32_t* overlays;
  int overlay_count;
  double decay;
  const DevNoise* noise;
  int noise_count;
  const double* zx;
  const double* ratio;
  unsigned long long seed;
};

__global__ void TurnKernel(DevProgram p, double* x, size_t stride, size_t count, unsigned long long first_run,
                           uint32_t turn, unsigned int* fired) {
  const size_t r = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  if (r >= count) return;
  for (int o = 0; o < p.overlay_count; ++o) {
    double& v = x[p.overlays[o] * stride + r];
    v = Max(0.0, v - p.decay);
  }
  for (int k = 0; k < p.rule_count; ++k) {
    const DevRule rule = p.rules[k];
    if (Run(p.code + rule.when, rule.when_length, x, stride, r) == 0) continue;
    atomicAdd(&fired[rule.index], 1u);
    for (int e = 0; e < rule.effect_count; ++e) {
      const DevEffect eff = p.effects[rule.effects + e];
      if (eff.skip) continue;
      const double value = Run(p.code + eff.code, eff.length, x, stride, r);
      double& t = x[eff.target * stride + r];
      double v = eff.op == 0 ? t + eff.mod * value : eff.op == 1 ? value : t * value;
      if (eff.bound == 1) v = Min(Max(v, 0.0), 1.0);
      if (eff.bound == 2) v = Max(v, 0.0);
      t = v;
    }
  }
  const unsigned long long run = first_run + r;
  DevRng rng{static_cast<uint32_t>(p.seed), static_cast<uint32_t>(p.seed >> 32), 0, static_cast<uint32_t>(run), turn,
             static_cast<uint32_t>(run >> 32), {0, 0, 0, 0}, 4};
  for (int j = 0; j < p.noise_count; ++j) {
    const DevNoise n = p.noise[j];
    double& v = x[n.slot * stride + r];
    const double s = v + n.sd * Normal(rng, p.zx, p.ratio);
    v = s < n.lo ? n.lo : (n.hi < s ? n.hi : s);  // std::clamp
  }
}

template <class T>
T* Upload(const std::vector<T>& host) {
  T* dev = nullptr;
  if (host.empty()) return nullptr;
  if (cudaMalloc(&dev, host.size() * sizeof(T)) != cudaSuccess) return nullptr;
  cudaMemcpy(dev, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice);
  return dev;
}

class CudaTurns final : public GpuTurns {
 public:
  CudaTurns(DevProgram program, std::vector<void*> owned, size_t slots, size_t rules)
      : program_(program), owned_(std::move(owned)), slots_(slots), rules_(rules) {
    cudaMalloc(&state_, slots * BlockState::kStride * sizeof(double));
    cudaMalloc(&fired_, std::max<size_t>(1, rules) * sizeof(unsigned int));
  }
  ~CudaTurns() override {
    for (void* p : owned_) cudaFree(p);
    cudaFree(state_);
    cudaFree(fired_);
  }

  Status Turn(BlockState& state, uint64_t first_run, uint32_t turn, std::vector<uint32_t>* fired) override {
    std::lock_guard lock(mu_);  // one block at a time on the device
    const size_t bytes = slots_ * BlockState::kStride * sizeof(double);
    double* host = state.slot(0);  // slots x kStride, contiguous
    cudaMemcpy(state_, host, bytes, cudaMemcpyHostToDevice);
    cudaMemset(fired_, 0, std::max<size_t>(1, rules_) * sizeof(unsigned int));
    const auto threads = 128u, blocks = static_cast<unsigned>((state.count() + threads - 1) / threads);
    TurnKernel<<<blocks, threads>>>(program_, state_, BlockState::kStride, state.count(), first_run, turn, fired_);
    std::vector<unsigned int> counts(rules_);
    cudaMemcpy(host, state_, bytes, cudaMemcpyDeviceToHost);
    if (rules_) cudaMemcpy(counts.data(), fired_, rules_ * sizeof(unsigned int), cudaMemcpyDeviceToHost);
    const cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) return Status::Internal(std::string("CUDA turn failed: ") + cudaGetErrorString(err));
    if (fired) fired->assign(counts.begin(), counts.end());
    return Status::Ok();
  }

 private:
  DevProgram program_;
  std::vector<void*> owned_;
  size_t slots_, rules_;
  double* state_ = nullptr;
  unsigned int* fired_ = nullptr;
  std::mutex mu_;
};

}  // namespace

bool GpuCompiledIn() { return true; }

std::unique_ptr<GpuTurns> GpuTurns::Create(const TurnEngine& engine, const std::vector<TurnNoise>& noise, uint64_t seed,
                                           std::string* why_not) {
  auto no = [&](const std::string& why) -> std::unique_ptr<GpuTurns> {
    if (why_not) *why_not = why;
    return nullptr;
  };
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) return no("no CUDA device");
  const Catalog& catalog = engine.catalog();
  const RuleSet& rules = engine.rules();
  std::vector<DevInstr> code;
  std::vector<DevRule> dev_rules;
  std::vector<DevEffect> effects;
  auto append = [&](const Expr& e, int* begin, int* length) {
    if (e.max_depth() > static_cast<size_t>(kMaxStack)) return false;
    *begin = static_cast<int>(code.size());
    for (const auto& in : e.code()) code.push_back({static_cast<int>(in.op), in.slot, in.value});
    *length = static_cast<int>(code.size()) - *begin;
    return true;
  };
  const TurnOptions& options = engine.options();
  for (size_t i : engine.order()) {
    const Rule& rule = rules.rules[i];
    DevRule dr{static_cast<uint32_t>(i), 0, 0, static_cast<int>(effects.size()), static_cast<int>(rule.effects.size())};
    if (!append(rule.when, &dr.when, &dr.when_length)) return no("a rule condition is nested too deep for the device");
    for (const Effect& effect : rule.effects) {
      const SlotKind kind = catalog[effect.target].kind;
      DevEffect de{effect.target, effect.op == EffectOp::kAdd ? 0 : effect.op == EffectOp::kSet ? 1 : 2,
                   kind == SlotKind::kOverlay                                 ? 1
                   : kind == SlotKind::kCapital && !options.signed_capital ? 2
                                                                            : 0,
                   kind == SlotKind::kOverlay && !options.symbolic ? 1 : 0, 0, 0,
                   effect.op == EffectOp::kAdd ? rule.Mod() : 1.0};
      if (!append(effect.value, &de.code, &de.length)) return no("a rule effect is nested too deep for the device");
      effects.push_back(de);
    }
    dev_rules.push_back(dr);
  }
  std::vector<DevNoise> dev_noise;
  for (const TurnNoise& n : noise) dev_noise.push_back({n.slot, n.sd, n.lo, n.hi});
  const std::vector<double> zx(ZigguratEdges(), ZigguratEdges() + 257), ratio(ZigguratRatios(), ZigguratRatios() + 256);
  std::vector<void*> owned;
  auto keep = [&](auto* p) {
    owned.push_back(p);
    return p;
  };
  DevProgram p{};
  p.code = keep(Upload(code));
  p.rules = keep(Upload(dev_rules));
  p.rule_count = static_cast<int>(dev_rules.size());
  p.effects = keep(Upload(effects));
  p.overlays = keep(Upload(engine.overlays()));
  p.overlay_count = static_cast<int>(engine.overlays().size());
  p.decay = options.decay_rate;
  p.noise = keep(Upload(dev_noise));
  p.noise_count = static_cast<int>(dev_noise.size());
  p.zx = keep(Upload(zx));
  p.ratio = keep(Upload(ratio));
  p.seed = seed;
  if (cudaGetLastError() != cudaSuccess) {
    for (void* q : owned) cudaFree(q);
    return no("CUDA allocation failed");
  }
  return std::make_unique<CudaTurns>(p, std::move(owned), catalog.size(), rules.rules.size());
}

}  // namespace pulse::sim
