package channel

// pause tells the CPU that this thread spins (the PAUSE instruction): it
// eases the memory pipeline and a hyperthread sibling while a waiter polls.
func pause()
