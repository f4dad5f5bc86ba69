// The "Models and drift" section of report.html (model_section.cc); RenderReportHtml places it
// after the trust table. Internal to the report module.
#pragma once

#include <string>
#include <vector>

#include "report/report.h"

namespace pulse::report::internal {

std::string ModelsSection(const std::vector<ModelCard>& models);

}  // namespace pulse::report::internal
