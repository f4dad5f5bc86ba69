// The CUDA path of the batched ETS fits (forecast/gpu_ets.h): one device thread per series runs
// ets_core::FitCandidates - the very code FitEts and AutoEts run on the CPU (internal/ets_core.h)
// - over the series' planned candidates. Compiled with --fmad=false (no fused multiply-add, as the
// host build) and --expt-relaxed-constexpr (std::array / std::span members in device code).
#include <cuda_runtime.h>

#include <algorithm>
#include <mutex>
#include <type_traits>
#include <vector>

#include "forecast/gpu_ets.h"
#include "forecast/internal/ets_core.h"
#include "forecast/internal/ets_device.h"

namespace pulse::forecast {
namespace {

static_assert(std::is_trivially_copyable_v<EtsFit> && std::is_trivially_copyable_v<EtsSpec> &&
                  std::is_trivially_copyable_v<ets_core::InitialGuess>,
              "copied to and from the device as bytes");

// Per-thread stack: FitCandidates' frames down to the additive-season solve (two 26 x 26 normal
// matrices) take about 13 KiB; ptxas --resource-usage reports the exact frame (README.md).
constexpr size_t kStackBytes = 32 * 1024;
constexpr unsigned kThreads = 64;

__global__ void FitKernel(const double* values, const EtsDeviceJob* jobs, size_t job_count, const EtsSpec* specs,
                          const ets_core::InitialGuess* guesses, EtsFit* fits, double* scratch) {
  const size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= job_count) return;
  const EtsDeviceJob job = jobs[i];
  FitJob(values, job, specs, guesses, fits, scratch + job.scratch);
}

// Device buffers freed on every way out.
class DeviceBuffers {
 public:
  ~DeviceBuffers() {
    for (void* p : owned_) cudaFree(p);
  }
  template <class T>
  T* Alloc(size_t count) {
    void* p = nullptr;
    if (cudaMalloc(&p, std::max<size_t>(1, count) * sizeof(T)) != cudaSuccess) return nullptr;
    owned_.push_back(p);
    return static_cast<T*>(p);
  }
  template <class T>
  T* Upload(std::span<const T> host) {
    T* p = Alloc<T>(host.size());
    if (p && !host.empty() && cudaMemcpy(p, host.data(), host.size_bytes(), cudaMemcpyHostToDevice) != cudaSuccess)
      return nullptr;
    return p;
  }

 private:
  std::vector<void*> owned_;
};

std::mutex device_mu;  // one batch at a time on the device

}  // namespace

bool EtsGpuCompiledIn() { return true; }

bool FitCandidatesOnDevice(std::span<const double> values, std::span<const EtsDeviceJob> jobs,
                           std::span<const EtsSpec> specs, std::span<const ets_core::InitialGuess> guesses,
                           std::span<EtsFit> fits, std::string* why_not) {
  auto no = [&](const std::string& why) {
    if (why_not) *why_not = why;
    return false;
  };
  auto failed = [&](const char* what, cudaError_t err) {
    return no(std::string("CUDA ") + what + " failed: " + cudaGetErrorString(err));
  };
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) return no("no CUDA device");
  if (jobs.empty()) return true;
  std::lock_guard lock(device_mu);
  if (cudaError_t err = cudaDeviceSetLimit(cudaLimitStackSize, kStackBytes); err != cudaSuccess)
    return failed("stack size", err);
  DeviceBuffers buffers;
  const double* d_values = buffers.Upload(values);
  const EtsDeviceJob* d_jobs = buffers.Upload(jobs);
  const EtsSpec* d_specs = buffers.Upload(specs);
  const ets_core::InitialGuess* d_guesses = buffers.Upload(guesses);
  EtsFit* d_fits = buffers.Alloc<EtsFit>(fits.size());
  double* d_scratch = buffers.Alloc<double>(4 * values.size());
  if (!d_values || !d_jobs || !d_specs || !d_guesses || !d_fits || !d_scratch)
    return failed("allocation or upload", cudaGetLastError());
  const auto blocks = static_cast<unsigned>((jobs.size() + kThreads - 1) / kThreads);
  FitKernel<<<blocks, kThreads>>>(d_values, d_jobs, jobs.size(), d_specs, d_guesses, d_fits, d_scratch);
  if (cudaError_t err = cudaGetLastError(); err != cudaSuccess) return failed("launch", err);
  if (cudaError_t err = cudaDeviceSynchronize(); err != cudaSuccess) return failed("kernel", err);
  if (cudaError_t err = cudaMemcpy(fits.data(), d_fits, fits.size_bytes(), cudaMemcpyDeviceToHost); err != cudaSuccess)
    return failed("copy back", err);
  return true;
}

}  // namespace pulse::forecast
