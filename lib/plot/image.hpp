// A plain RGB raster for figures, with the few drawing primitives they need
// (rectangles and text in a built-in 5x7 bitmap font), and PNG files through
// libpng: encode for writing, decode so tests can check what was drawn.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace symlearn::plot {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb& o) const { return r == o.r && g == o.g && b == o.b; }
  bool operator!=(const Rgb& o) const { return !(*this == o); }
};

constexpr Rgb kWhite{255, 255, 255};
constexpr Rgb kBlack{0, 0, 0};
constexpr Rgb kGrey{128, 128, 128};

class Image {
 public:
  Image() = default;
  Image(int width, int height, Rgb background = kWhite);
  int width() const { return width_; }
  int height() const { return height_; }
  Rgb at(int x, int y) const;
  void set(int x, int y, Rgb c);  // ignores pixels outside the image
  void fill(int x, int y, int w, int h, Rgb c);
  void frame(int x, int y, int w, int h, Rgb c);  // a 1-pixel outline
  // Row-major RGB bytes, 3 per pixel.
  const std::vector<std::uint8_t>& bytes() const { return rgb_; }
  std::vector<std::uint8_t>& bytes() { return rgb_; }

 private:
  int width_ = 0, height_ = 0;
  std::vector<std::uint8_t> rgb_;
};

// The built-in font: 5x7 glyphs for printable ASCII (others draw as '?'),
// scaled by an integer factor; each character advances 6 * scale pixels.
constexpr int kGlyphW = 5, kGlyphH = 7, kAdvance = 6;
int text_width(const std::string& text, int scale = 1);
// Draws `text` with its top-left corner at (x, y).
void draw_text(Image& img, int x, int y, const std::string& text, Rgb colour, int scale = 1);

// PNG (8-bit RGB) bytes of an image, and back. decode_png throws InputError.
std::vector<unsigned char> encode_png(const Image& img);
Image decode_png(const std::vector<unsigned char>& png, const std::string& name = "PNG");
Image read_png(const std::string& path);
// Writes a PNG to `target` atomically ("-" = stdout, never a terminal).
void write_png(const std::string& target, const Image& img);

}  // namespace symlearn::plot
