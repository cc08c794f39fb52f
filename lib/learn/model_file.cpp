#include "learn/model_file.hpp"

#include "util/error.hpp"

namespace symlearn::learn {

namespace {
using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

std::vector<double> row_major(const ad::Mat& m) {
  const RowMat r = m;  // HDF5 is row-major
  return {r.data(), r.data() + r.size()};
}

io::Shape shape_of(const ad::Mat& m) { return {std::uint64_t(m.rows()), std::uint64_t(m.cols())}; }

ad::Mat to_matrix(const std::vector<double>& data, long rows, long cols) {
  return Eigen::Map<const RowMat>(data.data(), rows, cols);
}
}  // namespace

const char* role_name(Role role) {
  switch (role) {
    case Role::symmetry: return "symmetry";
    case Role::init: return "init";
    case Role::hyper: return "hyper";
    case Role::weights: return "weights";
  }
  return "?";
}

Role role_from_name(const std::string& name) {
  if (name == "symmetry") return Role::symmetry;
  if (name == "init") return Role::init;
  if (name == "hyper") return Role::hyper;
  if (name == "weights") return Role::weights;
  throw InputError("unknown parameter role '" + name + "' (expected symmetry, init, hyper or weights)");
}

DatasetRecord DatasetRecord::of(const io::Reader& tasks, const std::string& path) {
  return {path, tasks.sha256(), tasks.has_attr("/", "kind") ? tasks.attr_string("/", "kind") : ""};
}

nlohmann::json DatasetRecord::to_json() const { return {{"path", path}, {"sha256", sha256}, {"kind", kind}}; }

// ---- writing ------------------------------------------------------------------

ModelWriter::ModelWriter(const std::string& target, const std::string& created_by, const std::string& model,
                         nlohmann::json config, const DatasetRecord& dataset)
    : w_(target, "model", created_by, (config["dataset"] = dataset.to_json(), config)) {
  w_.attr("/", "model", model);
  w_.group("/params");
}

void ModelWriter::param(const std::string& name, Role role, const io::Shape& shape, const std::vector<double>& data) {
  const std::string path = "/params/" + name;
  w_.write(path, shape, data.data());
  w_.attr(path, "role", std::string(role_name(role)));
}

void ModelWriter::param(const std::string& name, Role role, const ad::Mat& value) {
  param(name, role, shape_of(value), row_major(value));
}

void ModelWriter::attr(const std::string& param, const std::string& key, const std::string& value) {
  w_.attr("/params/" + param, key, value);
}

void ModelWriter::attr(const std::string& param, const std::string& key, std::int64_t value) {
  w_.attr("/params/" + param, key, value);
}

void ModelWriter::root_attr(const std::string& key, std::int64_t value) { w_.attr("/", key, value); }

void ModelWriter::log(const std::string& series, const std::vector<double>& values) {
  if (!log_) w_.group("/log");
  log_ = true;
  w_.write("/log/" + series, {values.size()}, values.data());
}

void ModelWriter::log(const std::string& series, const std::vector<std::int64_t>& values) {
  if (!log_) w_.group("/log");
  log_ = true;
  w_.write("/log/" + series, {values.size()}, values.data());
}

void ModelWriter::log_description(const std::string& text) {
  if (!log_) w_.group("/log");
  log_ = true;
  w_.attr("/log", "description", text);
}

void ModelWriter::optimizer_step(std::int64_t step) { w_.attr("/", "optimizer_step", step); }

void ModelWriter::moment(const std::string& which, const std::string& name, const io::Shape& shape,
                         const std::vector<double>& data) {
  w_.write("/optimizer/" + which + "/" + name, shape, data.data());
}

void ModelWriter::moment(const std::string& which, const std::string& name, const ad::Mat& value) {
  moment(which, name, shape_of(value), row_major(value));
}

std::uint64_t ModelWriter::commit() { return w_.commit(); }

// ---- reading ------------------------------------------------------------------

ModelReader::ModelReader(const io::Reader& file) : f_(file), config_(file.config()) {
  if (f_.has_attr("/", "model")) model_ = f_.attr_string("/", "model");
}

void ModelReader::fail(const std::string& what) const { throw InputError(f_.name() + ": " + what); }

const nlohmann::json& ModelReader::section(const std::string& key) const {
  if (!config_.is_object() || !config_.contains(key) || !config_[key].is_object())
    fail("the config lacks the " + key + " record");
  return config_[key];
}

long ModelReader::value(const std::string& key, long fallback) const {
  if (!config_.is_object() || !config_.contains(key)) return fallback;
  if (!config_[key].is_number_integer()) fail("config." + key + " is not an integer");
  return config_[key].get<long>();
}

DatasetRecord ModelReader::dataset() const {
  DatasetRecord d;
  if (config_.is_object() && config_.contains("dataset") && config_["dataset"].is_object()) {
    const auto& j = config_["dataset"];
    auto text = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : ""; };
    d.path = text("path");
    d.sha256 = text("sha256");
    d.kind = text("kind");
  }
  return d;
}

bool ModelReader::has_param(const std::string& name) const { return f_.has("/params/" + name); }

std::vector<double> ModelReader::param(const std::string& name, Role role, const io::ShapePattern& shape) const {
  const std::string path = "/params/" + name;
  if (!f_.has(path)) fail("missing " + path + " (needed by a " + model_ + " model)");
  if (f_.has_attr(path, "role") && f_.attr_string(path, "role") != role_name(role))
    fail(path + " has role " + f_.attr_string(path, "role") + ", expected " + role_name(role));
  return f_.read(path, shape).data;
}

ad::Mat ModelReader::param(const std::string& name, Role role, long rows, long cols) const {
  return to_matrix(param(name, role, io::ShapePattern{rows, cols}), rows, cols);
}

std::vector<double> ModelReader::log(const std::string& series) const {
  const std::string path = "/log/" + series;
  return f_.has(path) ? f_.read(path).data : std::vector<double>{};
}

std::vector<std::int64_t> ModelReader::log_ints(const std::string& series) const {
  const std::string path = "/log/" + series;
  return f_.has(path) ? f_.read_ints(path) : std::vector<std::int64_t>{};
}

std::int64_t ModelReader::optimizer_step() const {
  const std::int64_t step = f_.has_attr("/", "optimizer_step") ? f_.attr_int("/", "optimizer_step") : 0;
  if (step < 0) fail("its optimizer_step is negative (" + std::to_string(step) + ")");
  return step;
}

std::vector<double> ModelReader::moment(const std::string& which, const std::string& name,
                                        const io::ShapePattern& shape) const {
  const std::string dataset = "/optimizer/" + which + "/" + name;
  std::vector<double> data = f_.read(dataset, shape).data;
  if (which == "v")
    for (double x : data)
      if (x < 0) fail(dataset + " has a negative entry (a second moment cannot be negative)");
  return data;
}

ad::Mat ModelReader::moment(const std::string& which, const std::string& name, long rows, long cols) const {
  return to_matrix(moment(which, name, io::ShapePattern{rows, cols}), rows, cols);
}

}  // namespace symlearn::learn
