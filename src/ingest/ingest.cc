// placeholder translation unit until the ingest module lands
namespace pulse::ingest {}
