import pickle, sys, numpy as np, cv2
def excess(d):
    lm = d['lm']; out = cv2.cvtColor(d['out'], cv2.COLOR_BGR2GRAY).astype(np.float32); tg = cv2.cvtColor(d['image'], cv2.COLOR_BGR2GRAY).astype(np.float32)
    xa = int(lm[263, 0]) - 10; ya = int(lm[263, 1]); yb = int(lm[291, 1]) + 20
    xb = int(lm[:, 0].max())
    def dx(a): return np.abs(a[:, 6:] - a[:, :-6])
    e = dx(out) - dx(tg)
    z = e[ya:yb, xa - 3:xb - 3]
    i = np.unravel_index(np.argmax(z), z.shape)
    return float(z.max()), float(np.percentile(z, 99)), (i[1] + xa, i[0] + ya)
if __name__ == '__main__':
    for p in sys.argv[1:]:
        print(p, excess(pickle.load(open(p, 'rb'))))
