// Package grid draws the PNG figures of samples that a run folder holds: a
// tiled grid of images (Images) and a scatter plot of 2-D points (Points).
// Both write their file atomically (a temporary file in the same folder,
// synced and renamed over the destination, then the folder synced), so a
// reader never sees a half-written figure. They use only image, image/draw
// and image/png.
package grid
