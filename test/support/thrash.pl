# Holds HOLD MiB of memory, then reads a FILE MiB file through mmap page by page, forever:
# at the workspace's limit the file's pages are evicted and faulted back in on every pass.
$| = 1;
my ($hold_mib, $file_mib, $path) = @ARGV;
open(my $out, ">", $path) or die "open: $!";
print $out ("x" x (1 << 20)) for 1 .. $file_mib;
close($out);
system("sync");
my @hold = map { "y" x (1 << 20) } 1 .. $hold_mib;
open(my $in, "<", $path) or die "open: $!";
my $len = $file_mib << 20;
my $addr = syscall(9, 0, $len, 1, 1, fileno($in), 0);   # mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0)
die "mmap: $!" if $addr == -1;
print "thrashing\n";
while (1) {
  for (my $off = 0; $off < $len; $off += 4096) { my $byte = unpack("P1", pack("Q", $addr + $off)); }
}
