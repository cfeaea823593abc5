pub fn parse(s: &str) -> i32 {
    let value: i32 = s;
    value
}
