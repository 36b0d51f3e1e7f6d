"""Well depth of a trained MNIST energy around its training images.

    bin/ebmflow data fetch mnist -dir MNIST  # the MNIST files, SHA-256 checked
    python3 wells.py inputs MNIST DIR N SD...  # DIR/exact.safetensors, DIR/noiseSD.safetensors
    ebmflow score ... -input DIR/exact.safetensors -out DIR/RUN-exact.csv   (and each noiseSD)
    python3 wells.py depth DIR/RUN EPS SD...

`inputs` writes the first N training digits of MNIST's train file (from a
folder that `ebmflow data fetch mnist` filled and checked), resized
to 32x32 as data-mnist resizes them (torch bilinear, align_corners=False;
pixels v/255*2 - 1), exactly and with Gaussian noise of each SD (seed 7).
`depth` reads the energies `ebmflow score` wrote and prints, per SD, the mean
and median over images of U(noised) - U(exact) = (F(noised) - F(exact)) /
(EPS^2/2) and the fraction of images where it is positive. Needs numpy and
torch (Debian's python3-torch).
"""
import csv, gzip, json, os, statistics, struct, sys


def inputs(mnist, out, n, sds):
    import numpy as np, torch
    path = os.path.join(mnist, "train-images-idx3-ubyte")
    raw = gzip.open(path + ".gz").read() if os.path.exists(path + ".gz") else open(path, "rb").read()
    _, h, w = struct.unpack(">III", raw[4:16])
    x = np.frombuffer(raw[16:16 + n * h * w], dtype=np.uint8).reshape(n, 1, h, w).astype(np.float64) / 255 * 2 - 1
    x = torch.nn.functional.interpolate(torch.from_numpy(x), size=(32, 32), mode="bilinear", align_corners=False).numpy()
    save(os.path.join(out, "exact.safetensors"), x)
    rng = np.random.default_rng(7)
    for sd in sds:
        save(os.path.join(out, f"noise{sd}.safetensors"), x + float(sd) * rng.standard_normal(x.shape))
    print(f"{n} images, {(x == -1).mean():.3f} of pixels exactly -1")


def save(path, a):
    import numpy as np
    a = np.ascontiguousarray(a, dtype=np.float32)
    hdr = json.dumps({"x": {"dtype": "F32", "shape": list(a.shape), "data_offsets": [0, a.nbytes]}}).encode()
    hdr += b" " * ((8 - len(hdr) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hdr)))
        f.write(hdr)
        f.write(a.tobytes())


def energies(path):
    return [float(r["energy"]) for r in csv.DictReader(open(path))]


def depth(prefix, eps, sds):
    k = 2 / eps ** 2
    exact = energies(prefix + "-exact.csv")
    for sd in sds:
        d = [k * (b - a) for a, b in zip(exact, energies(prefix + f"-noise{sd}.csv"))]
        print(f"{prefix} sd {sd}: U(noised) - U(exact) mean {statistics.mean(d):.1f}, "
              f"median {statistics.median(d):.1f}, positive for {sum(v > 0 for v in d) / len(d):.2f}")


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "inputs":
        inputs(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:])
    elif len(sys.argv) >= 4 and sys.argv[1] == "depth":
        depth(sys.argv[2], float(sys.argv[3]), sys.argv[4:])
    else:
        sys.exit(__doc__)
