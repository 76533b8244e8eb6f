# Writes the small reference fixtures in this folder with independent implementations (SciPy's MAT-file writer,
# PIL's resampler), so the C# readers and transforms are checked against other code, not against themselves.
# Run with Debian's python3 (python3-scipy, python3-pil): /usr/bin/python3 make_fixtures.py
import numpy as np, scipy.io
from PIL import Image

n = 5
X = np.zeros((32, 32, 3, n), dtype=np.uint8)
for r in range(32):
    for c in range(32):
        for ch in range(3):
            for k in range(n):
                X[r, c, ch, k] = (r * 7 + c * 3 + ch * 50 + k * 11) % 256
y = np.array([[1], [10], [3], [10], [5]], dtype=np.uint8)
scipy.io.savemat('svhn_small_v5.mat', {'X': X, 'y': y}, do_compression=False)
scipy.io.savemat('svhn_small_v7_compressed.mat', {'X': X, 'y': y.astype(np.float64)}, do_compression=True)

rng = np.random.RandomState(7)
src = rng.randint(0, 256, size=(30, 40, 3), dtype=np.uint8)
Image.fromarray(src).save('resample_src.png')
np.asarray(Image.fromarray(src).resize((17, 13), Image.BILINEAR, box=(2.5, 3.0, 37.0, 28.5))).tofile('resample_pil_17x13.rgb')
np.asarray(Image.fromarray(src).resize((57, 45), Image.BILINEAR)).tofile('resample_pil_57x45.rgb')
