mod util;

fn main() {
    let unused = 5;
    let total: i32 = util::parse("12");
    println!("{}", total);
}
