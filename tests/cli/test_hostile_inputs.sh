# Issue 13: inputs are never overwritten by their own command; corruption of a
# symlearn-written file is detected (checksums); a config field of the wrong
# type is a bad input naming the file; absurd option sizes are refused before
# any work.
. "$TESTS/cli/lib.sh"
G="$BIN/gen-tasks"
M="$BIN/meta-train"
E="$BIN/eval"
I="$BIN/inspect-symmetry"
P="$BIN/prox-regularize"
TRAIN="--meta-batch 4 --support 2 --query 6 --val-tasks 8 --val-every 5 --quiet"
"$G" locally-connected --tasks 60 --samples 8 --input-dim 10 --seed 1 --quiet -o "$WORK/t.h5"
expect_ok "$M" msr-fc $TRAIN --steps 5 "$WORK/t.h5" -o "$WORK/m.h5"
ln "$WORK/t.h5" "$WORK/t-link.h5"
before=$(cat "$WORK/t.h5" "$WORK/m.h5" | sha256sum)

# Never destroy an input: -o, --checkpoint, --png, and a hard link of the input.
expect_error 2 "t.h5: is an input of this command; refusing to overwrite it" \
  "$M" msr-fc $TRAIN --steps 5 "$WORK/t.h5" -o "$WORK/t.h5"
expect_error 2 "t-link.h5: is the same file as the input $WORK/t.h5" \
  "$M" msr-fc $TRAIN --steps 5 "$WORK/t.h5" -o "$WORK/t-link.h5"
expect_error 2 "t.h5: is an input" "$M" msr-fc $TRAIN --steps 5 --checkpoint "$WORK/t.h5" "$WORK/t.h5" -o "$WORK/x.h5"
expect_error 2 "m.h5: is an input" "$M" --resume "$WORK/m.h5" --steps 8 -o "$WORK/m.h5"
expect_error 2 "m.h5: is an input" "$E" --tasks "$WORK/t.h5" "$WORK/m.h5" -o "$WORK/m.h5"
expect_error 2 "m.h5: is an input" "$I" "$WORK/m.h5" --png "$WORK/m.h5"
expect_error 2 "t.h5: is an input" "$I" "$WORK/m.h5" --truth "$WORK/t.h5" --png "$WORK/t.h5"
expect_error 2 "m.h5: is an input" "$P" --op l1 --lambda 0.1 --quiet "$WORK/m.h5" -o "$WORK/m.h5"
"$G" sum-of-numbers --length 3 --test 20 --seed 3 --quiet -o "$WORK/sums.h5"
expect_error 2 "sums.h5: is an input" "$M" sharing --outer-steps 1 --quiet "$WORK/sums.h5" -o "$WORK/sums.h5"
[ "$(cat "$WORK/t.h5" "$WORK/m.h5" | sha256sum)" = "$before" ] || fail "an input was changed"
no_temp_files "$WORK"

# Checksums: every dataset is chunked with Fletcher32, the metadata format checksummed.
$PY - "$WORK/m.h5" "$WORK/t.h5" <<'PY' || fail "datasets without checksums"
import h5py, sys
for name in sys.argv[1:]:
    f = h5py.File(name, "r")
    assert f.id.get_create_plist().get_userblock() == 0
    def check(n, o):
        if isinstance(o, h5py.Dataset) and o.size > 0 and o.dtype.kind in "fiu":
            assert o.fletcher32, f"{name} {n} has no Fletcher32 checksum"
    f.visititems(check)
PY
# A flipped byte in a dataset's data, and in the metadata, is reported, exit 2, one line.
$PY - "$WORK/m.h5" "$WORK/bad-data.h5" "$WORK/bad-meta.h5" <<'PY'
import h5py, sys
src, data_out, meta_out = sys.argv[1:]
with h5py.File(src, "r") as f:
    at = f["params/U"].id.get_chunk_info(0).byte_offset + 5
raw = bytearray(open(src, "rb").read())
b = bytearray(raw); b[at] ^= 0x10; open(data_out, "wb").write(b)
b = bytearray(raw); b[60] ^= 0x01; open(meta_out, "wb").write(b)  # inside the superblock / root object header
PY
expect_error 2 "bad-data.h5: /params/U cannot be read: the file is corrupt or truncated" \
  "$E" --tasks "$WORK/t.h5" "$WORK/bad-data.h5"
expect_error 2 "bad-meta.h5: " "$E" --tasks "$WORK/t.h5" "$WORK/bad-meta.h5"

# A config field of the wrong JSON type: a bad input naming the file, not an internal error.
$PY - "$WORK/m.h5" "$WORK/bad-cfg.h5" <<'PY'
import h5py, json, shutil, sys
shutil.copyfile(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], "r+") as f:
    cfg = json.loads(f.attrs["config"])
    cfg["steps_done"] = "five"
    f.attrs["config"] = json.dumps(cfg)
PY
expect_error 2 "bad-cfg.h5: " "$M" --resume "$WORK/bad-cfg.h5" --steps 9 -o "$WORK/x.h5"
expect_error 2 "bad-cfg.h5: " "$E" --tasks "$WORK/t.h5" "$WORK/bad-cfg.h5"

# Sizes that cannot fit are refused before any work, naming the option.
expect_error 2 "gen-tasks: --input-dim must be in \[1, 4096\]" "$G" locally-connected --input-dim 1000000 -o "$WORK/x.h5"
expect_error 2 "gen-tasks: --rank must be in \[1, 256\]" "$G" locally-connected --rank 1000000 -o "$WORK/x.h5"
expect_error 2 "meta-train: --latent must be in \[1, 80\]" "$M" msr-fc $TRAIN --latent 1000000 "$WORK/t.h5" -o "$WORK/x.h5"
expect_error 2 "meta-train: --kron-in must be in \[1, 10\]" \
  "$M" msr-kron $TRAIN --kron-in 100000 --kron-out 100000 "$WORK/t.h5" -o "$WORK/x.h5"
expect_error 2 "meta-train: --inner-steps must be in \[0, 1000\]" \
  "$M" msr-fc $TRAIN --inner-steps 1000000000 "$WORK/t.h5" -o "$WORK/x.h5"
expect_error 2 "meta-train: --embed and --hidden must be in \[1, 4096\]" \
  "$M" sharing --hidden 100000 "$WORK/sums.h5" -o "$WORK/x.h5"
no_temp_files "$WORK"

# Values a file can hold but must not: a permutation that is not one (it crashed inspect-symmetry).
"$G" rotated-scrambled --size 6 --train 40 --test 10 --scramble --seed 2 --quiet -o "$WORK/rs.h5"
expect_ok "$M" lconv --epochs 1 --filters 2 --generators 2 --rank 2 --quiet "$WORK/rs.h5" -o "$WORK/lconv.h5"
for v in -1 36 5; do
  $PY - "$WORK/rs.h5" "$WORK/perm.h5" "$v" <<'PY'
import h5py, shutil, sys
shutil.copyfile(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], "r+") as f:
    p = f["truth/permutation"][()]
    p[0] = int(sys.argv[3])
    del f["truth/permutation"]
    f["truth/permutation"] = p
PY
  expect_error 2 "perm.h5: /truth/permutation is not a permutation of 0..35" \
    "$I" "$WORK/lconv.h5" --truth "$WORK/perm.h5"
done
