package mockapi

import (
	"strings"

	"github.com/jaswdr/faker/v2"
)

// lorem makes the words and sentences of the issues, as faker's Lorem
// does (a word drawn uniformly, a sentence of words joined by spaces with
// a period), from a short word list of its own: faker's list of English
// words is a slice of 234,000 strings, which every program linking it
// carries as 3.7 MB of pointers that the garbage collector scans at each
// cycle (6.6% of the instructions of examples/users syncing 200,000 users
// from another process, which links this package for its embedded mock).
type lorem struct{ f faker.Faker }

// loremWords is lorem's word list.
var loremWords = strings.Fields(`
	a ab accept access account across action active actual add address admin
	after again agent alert align allow alpha amount anchor angle answer apply
	archive area argument array asset async atom audit author auto backup
	badge balance banner base batch beta binary bind block board body bold
	bound branch bridge buffer build bundle button cache call canvas capture
	card carry cascade case catalog cell chain change channel chart check
	child chunk cipher circle claim class clean clear client clock clone
	close cloud cluster code column command comment commit compare compile
	config connect console content context copy core count cover crash
	create cursor cycle daemon dash data date debug decode default delay
	delete delta deploy depth design detail device dialog diff digest direct
	disk display dock domain draft drive driver dump edge editor element
	email empty encode engine entry error event export extend factor feature
	fetch field file filter flag float flow focus folder font format frame
	gateway global graph grid group guard handle hash header heap helper
	hidden history hook host icon image import index input insert install
	issue item job join kernel key label layer layout level limit line link
	list load local lock log loop macro main manager map margin match matrix
	memory menu merge message meta method metric migrate mirror mode model
	module monitor mount native network node notice null number object offset
	option order origin output owner package page panel parse patch path
	pattern payload peer pipe pixel plugin pointer policy pool port post
	power prefix preview print process profile project prompt proxy query
	queue quota range rate reader record redirect region release remote
	render report request reset resolve result retry review role root route
	row rule runner sample scale schema scope screen script search secret
	select server service session shadow shell signal socket sort source
	space stack stage state status storage stream string style switch symbol
	sync table tag target task template tenant test text theme thread ticket
	timer token tool topic trace track tree trigger type unit update upload
	user value vector version view volume watch widget window worker write
	zone`)

// Word returns a word of the list.
func (l lorem) Word() string { return loremWords[l.f.IntBetween(0, len(loremWords)-1)] }

// Sentence returns n words and a period.
func (l lorem) Sentence(n int) string {
	words := make([]string, n)
	for i := range words {
		words[i] = l.Word()
	}
	return strings.Join(words, " ") + "."
}
