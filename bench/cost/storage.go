package cost

import "fmt"

// storagePerMillion is what option o pays per month to keep a million
// photos (originals and thumbnails), USD, or why it cannot be priced.
func (b book) storagePerMillion(o string) fig {
	perGB, _ := b.storagePerGBMonth(o)
	return scale(perGB, b.photo.total()*1e6/gib)
}

// storageTable prices keeping the photos: per million photos stored, per
// month, by option. It is apart from the per-request cost because it
// accumulates: a month's photos cost it every month they are kept.
func (a *analysis) storageTable() Table {
	p := a.book.photo
	t := Table{
		Title: "Storage: cost per million photos stored, per month",
		Header: []string{"pricing option", "stored on", "bytes per photo (original + thumbnails)",
			"GB per million photos", "price (USD per GB-month)", "storage (USD per million photos, per month)"},
		Notes: []string{
			fmt.Sprintf("Bytes per photo: %s; original %s + small thumbnail %s + large thumbnail %s = %s bytes.",
				p.from, num(p.original), num(p.small), num(p.large), num(p.total())),
			"The estimate is the mean of the load generator's synthetic JPEGs (the profiles' photos spec: 0.3 to 4 MP) and of their thumbnails as the imaging package makes them (256 and 1,024 px, quality 80). Synthetic photos compress far better than a camera's: a 12 MP phone photo is about 3 MB, so real storage costs scale up by about 20x; the sensitivity table gives the retention at which storage changes a verdict.",
			"GB = 2^30 bytes, as AWS bills storage. The database rows (a few hundred bytes per photo) and the price of the provisioned volume's free space are left out: the volume is taken to grow with the photos.",
			"Monolith with --storage disk (the run's monolith_storage setting): the VM's EBS gp3 volume; the HA option keeps a copy on each VM of its pair (an S3 bucket shared by both would cost the S3 line instead). With --storage s3 and for the event-driven app: S3 Standard.",
			"A month of photos at load L (photos/s) adds L x 2,628,000 / 1,000,000 million photos to the stock: storage grows every month the photos are kept.",
		},
	}
	for _, o := range options {
		perGB, where := a.book.storagePerGBMonth(o)
		t.Rows = append(t.Rows, []string{optionNames[o], where, num(p.total()), num(p.total() * 1e6 / gib),
			figText(perGB, money), figText(a.book.storagePerMillion(o), money)})
	}
	return t
}

// figText renders a figure that does not vary between runs.
func figText(f fig, format func(float64) string) string {
	if !f.ok() {
		return "n/a (" + f.why + ")"
	}
	return format(f.v)
}
