package demo

import (
	"fmt"
	mrand "math/rand/v2"

	"github.com/onecard-campus/onecard"
)

// Head counts of the demo school: mostly students, some staff, a few
// visitors.
const (
	students = 930
	staff    = 62
	visitors = 8
	// Cardholders is how many cardholders Load creates.
	Cardholders = students + staff + visitors
)

// seed fixes the generator so that every load creates the same people and
// the docs can cite the sample cardholder.
const seed = 20240901

// person is one generated cardholder with the cash they deposit at the
// counter on day one.
type person struct {
	onecard.NewCardholder
	campus  string // name of the home campus
	deposit int64  // fen; 0 for none
}

// Surnames in rough order of frequency, with a few two-character ones.
var surnames = []string{
	"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
	"郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
	"彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏",
	"魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金",
	"石", "廖", "贾", "夏", "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹",
	"薛", "闫", "段", "雷", "侯", "龙", "史", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵",
	"欧阳", "司马", "上官", "诸葛",
}

// givenChars are characters common in given names; a given name is one or
// two of them.
var givenChars = []string{
	"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
	"明", "超", "霞", "平", "刚", "子", "涵", "浩", "宇", "轩", "梓", "欣", "怡", "佳", "思",
	"雨", "一", "诺", "博", "文", "俊", "晨", "阳", "昊", "然", "嘉", "琪", "婷", "雪", "华",
	"建", "国", "志", "海", "鹏", "飞", "晓", "颖", "瑞", "泽", "天", "乐", "安", "宁", "鑫",
	"凯", "璐", "茜", "悦", "彤", "晴", "萱", "诗", "雅", "梦", "洁", "航", "帆", "远", "哲",
	"铭", "睿", "煜", "辰", "逸", "欢", "可", "心", "桐", "书", "言", "景", "禾", "星", "若",
}

// regions are real six-digit administrative division codes, so generated ID
// numbers look like the ones a card centre sees.
var regions = []string{
	"120104", "120112", "120101", "110105", "110108", "310115", "310104", "440305", "440106",
	"370102", "130102", "410105", "510107", "420111", "320106", "330106", "210102", "230103",
	"610113", "500103", "350203", "430104", "340104", "360102", "140105", "150102", "220102",
	"450103", "530102", "620102",
}

// phonePrefixes are mobile number prefixes of the three carriers.
var phonePrefixes = []string{
	"130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
	"156", "157", "158", "159", "176", "177", "180", "181", "182", "185", "186", "187", "188",
	"189", "191", "198", "199",
}

// Campus names of the demo school.
const (
	campusNorth = "八里台校区"
	campusSouth = "津南校区"
)

// people generates the demo school's cardholders, always the same ones.
func people() []person {
	rng := mrand.New(mrand.NewPCG(seed, seed))
	out := make([]person, 0, Cardholders)
	for i := range students {
		year := 2021 + i%4
		p := person{NewCardholder: onecard.NewCardholder{
			// Enrolment year, college, then a sequence: ten digits.
			Number: fmt.Sprintf("%d%02d%04d", year, 1+(i/4)%12, 1+i/48),
			Name:   chineseName(rng),
			Kind:   onecard.Student,
			IDType: onecard.IDCard,
			// Freshmen are about 18 when they enrol.
			IDNumber: idNumber(rng, year-18-rng.IntN(2)),
			Phone:    phone(rng),
		}}
		p.campus = campusSouth
		if rng.IntN(5) < 2 {
			p.campus = campusNorth
		}
		// Cash comes in notes of 10, 20, 50 and 100 yuan; a few students have
		// not topped up yet.
		if i == 0 || rng.IntN(100) >= 4 {
			p.deposit = int64(2+rng.IntN(49)) * 10_00
		}
		out = append(out, p)
	}
	for i := range staff {
		hired := 1990 + rng.IntN(31)
		p := person{NewCardholder: onecard.NewCardholder{
			Number:   fmt.Sprintf("%d%04d", hired, 1+i),
			Name:     chineseName(rng),
			Kind:     onecard.Staff,
			IDType:   onecard.IDCard,
			IDNumber: idNumber(rng, hired-22-rng.IntN(8)),
			Phone:    phone(rng),
		}, campus: []string{campusNorth, campusSouth}[rng.IntN(2)]}
		p.deposit = int64(10+rng.IntN(71)) * 10_00
		out = append(out, p)
	}
	for i := range visitors {
		// Visitor cards follow seed 002: SN:000101 is stored and typed as
		// 101; F000105 is kept as is.
		number := fmt.Sprintf("SN:%06d", 101+i)
		if i >= visitors/2 {
			number = fmt.Sprintf("F%06d", 101+i)
		}
		p := person{NewCardholder: onecard.NewCardholder{
			Number:   number,
			Name:     chineseName(rng),
			Kind:     onecard.Visitor,
			IDType:   onecard.IDCard,
			IDNumber: idNumber(rng, 1970+rng.IntN(35)),
			Phone:    phone(rng),
		}, campus: campusNorth, deposit: int64(5+rng.IntN(6)) * 10_00}
		if i == visitors-1 {
			// A visiting scholar from abroad registers with a passport.
			p.Name, p.IDType, p.IDNumber = "Emma Wilson", onecard.Passport, "567812340"
		}
		out = append(out, p)
	}
	return out
}

// chineseName returns a surname and a one- or two-character given name.
func chineseName(rng *mrand.Rand) string {
	// Skew towards the common surnames, as real rosters are.
	s := surnames[min(rng.IntN(len(surnames)), rng.IntN(len(surnames)))]
	g := givenChars[rng.IntN(len(givenChars))]
	if rng.IntN(10) < 7 {
		g += givenChars[rng.IntN(len(givenChars))]
	}
	return s + g
}

// idNumber returns a resident ID number of someone born in year: region,
// birth date, a sequence whose last digit is odd for men and even for women,
// and the GB 11643 check character (X about one time in eleven).
func idNumber(rng *mrand.Rand, year int) string {
	month := 1 + rng.IntN(12)
	day := 1 + rng.IntN(28)
	first17 := fmt.Sprintf("%s%04d%02d%02d%03d", regions[rng.IntN(len(regions))], year, month, day, rng.IntN(1000))
	return first17 + string(IDCheckDigit(first17))
}

// phone returns an eleven-digit mobile number.
func phone(rng *mrand.Rand) string {
	return fmt.Sprintf("%s%08d", phonePrefixes[rng.IntN(len(phonePrefixes))], rng.IntN(100_000_000))
}
