// Package quality measures how far a marked image is from its original: PSNR
// and SSIM with the peak taken from the image's bits stored (2^bits − 1), as
// the paper reports them. The figures are floats for reporting only; no
// decision that must be the same on every architecture depends on them.
//
// SSIM is computed per plane (each channel of each frame) with an 11×11
// Gaussian window (σ = 1.5), C1 = (0.01·peak)², C2 = (0.03·peak)², and the
// window truncated and renormalised at the image border, so that planes
// smaller than the window are measured too; the result is the mean over all
// samples of all planes.
//
// A window where the two images agree everywhere has SSIM exactly 1, so SSIM
// evaluates only the windows around changed samples, in 8×8 blocks of window
// centres, with a few kilobytes of scratch and no float planes of the whole
// image (a byte for every eight samples of a frame records which tiles a
// change reaches). A marked image changes a small share of its samples, so
// measuring it costs about as much as comparing the two images.
package quality
