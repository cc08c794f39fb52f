"""A minimal PNG decoder (8-bit RGB, not interlaced: what inspect-symmetry
writes) with zlib and struct only, so the tests need no imaging library.
read_png(path) -> (width, height, pixel) with pixel(x, y) -> (r, g, b)."""
import struct
import zlib


def read_png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
    w, h, depth, colour, _, _, interlace = header
    assert depth == 8 and colour == 2 and interlace == 0, header
    raw, stride = zlib.decompress(idat), w * 3
    assert len(raw) == h * (stride + 1), "truncated image data"
    rows, prev, p = [], bytearray(stride), 0
    for _ in range(h):
        f, line = raw[p], bytearray(raw[p + 1:p + 1 + stride])
        p += 1 + stride
        if f == 2:  # up
            line = bytearray((x + b) & 255 for x, b in zip(line, prev))
        elif f:  # sub, average, paeth: left to right
            for i in range(stride):
                a = line[i - 3] if i >= 3 else 0
                b, c = prev[i], (prev[i - 3] if i >= 3 else 0)
                if f == 1:
                    line[i] = (line[i] + a) & 255
                elif f == 3:
                    line[i] = (line[i] + (a + b) // 2) & 255
                else:
                    pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                    line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, lambda x, y: tuple(rows[y][3 * x:3 * x + 3])
