package protect

// currentStreamVersion names the body vectors the current encoder writes.
const currentStreamVersion = "4"
