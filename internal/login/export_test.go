package login

import "time"

// GalleryBuilds is how many times the station prepared the store's gallery.
func (s *Station) GalleryBuilds() int {
	s.gallery.mu.Lock()
	defer s.gallery.mu.Unlock()
	return s.gallery.builds
}

// SetRacyWindow replaces racyWindow for this station's gallery.
func (s *Station) SetRacyWindow(d time.Duration) {
	s.gallery.mu.Lock()
	defer s.gallery.mu.Unlock()
	s.gallery.window = d
}
