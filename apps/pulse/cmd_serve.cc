// pulse serve [--host H] [--port P]
//   The HTTP API (src/service/README.md): settings from the serve.* section (--host / --port
//   override serve.host / serve.port). Prints "pulse serve: listening on http://H:P" (https://
//   with serve.tls_cert_file) on stderr once bound; SIGTERM / SIGINT stop it gracefully (in-flight requests get
//   serve.shutdown_grace_ms), then it prints {"requests": N, "drained": true|false} and exits 0.
// pulse token create --scope read|write|admin [--name NAME]
//   Adds an API token to serve.tokens_file (stored hashed) and prints the token once.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "cli.h"
#include "cli_options.h"
#include "service/serve.h"
#include "service/tokens.h"

namespace pulse::cli {
namespace {

std::atomic<bool> g_serve_stop{false};
void OnServeSignal(int) { g_serve_stop = true; }

struct ServeArgs {
  std::string host;
  int port = -1;  // -1: serve.port
};

int RunServeCommand(const ServeArgs& args, const Context& ctx) {
  service::ServeOptions options = service::ServeOptionsFrom(ctx.settings().serve);
  if (!args.host.empty()) options.host = args.host;
  if (args.port >= 0) options.port = args.port;
  std::signal(SIGTERM, OnServeSignal);
  std::signal(SIGINT, OnServeSignal);
  auto summary = service::RunServe(ctx.settings(), options, ctx.exe_path, g_serve_stop, [&](int port) {
    std::fprintf(stderr, "pulse serve: listening on %s://%s:%d\n", options.tls() ? "https" : "http",
                 options.host.c_str(), port);
    std::fflush(stderr);
  });
  if (!summary.ok()) return Fail(summary.status());
  std::printf("{\"requests\": %lld, \"drained\": %s}\n", static_cast<long long>(summary->requests),
              summary->drained ? "true" : "false");
  std::fflush(stdout);
  // Requests still running past the grace period hold threads and objects a normal exit would
  // destroy under them: leave at once.
  if (!summary->drained) std::_Exit(kExitOk);
  return kExitOk;
}

struct TokenArgs {
  std::string scope, name;
};

int CreateTokenCommand(const TokenArgs& args, const Context& ctx) {
  auto scope = service::ParseScope(args.scope);
  if (!scope.ok()) return Fail(scope.status());
  auto created = service::CreateToken(ctx.settings().serve.tokens_file, *scope, args.name);
  if (!created.ok()) return Fail(created.status());
  std::fprintf(stderr, "pulse token: created '%s' (scope %s) in %s; the token is shown only now:\n",
               created->stored.name.c_str(), args.scope.c_str(), ctx.settings().serve.tokens_file.c_str());
  std::printf("%s\n", created->token.c_str());
  return kExitOk;
}

}  // namespace

void AddServeCommands(CLI::App& app, Context& ctx, int& exit_code) {
  auto sargs = std::make_shared<ServeArgs>();
  auto* serve = app.add_subcommand("serve", "Serve the HTTP API (signals, jobs, forecasts, probes, metrics)");
  serve->add_option("--host", sargs->host, "Address to listen on (default: config serve.host, 127.0.0.1)");
  AddNumberOption(serve, "--port", sargs->port, "Port (0: any free port; default: config serve.port, 8080)", -1, 65535);
  serve->callback([sargs, &ctx, &exit_code] { exit_code = RunServeCommand(*sargs, ctx); });

  auto targs = std::make_shared<TokenArgs>();
  auto* token = app.add_subcommand("token", "API tokens of pulse serve");
  token->require_subcommand(1);
  auto* create =
      token->add_subcommand("create", "Create an API token (printed once; stored hashed in serve.tokens_file)");
  create->add_option("--scope", targs->scope, "read, write or admin")->required();
  create->add_option("--name", targs->name, "A name for the token (default: token-<hash prefix>)");
  create->callback([targs, &ctx, &exit_code] { exit_code = CreateTokenCommand(*targs, ctx); });
}

}  // namespace pulse::cli
