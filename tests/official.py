"""A tiny set of official documents in the Decree 30 format, as plain text.

A Prime Minister's decision (1658/QĐ-TTg), a government decree (08/2022/NĐ-CP),
a provincial plan that cites both (123/KH-UBND), a provincial decision with the
same sequence number as the first (1658/QĐ-UBND), a whole law with articles
(Luật Bảo vệ môi trường, 72/2020/QH14) and two one-article files of the civil
code. Shared by the lookup tests (search) and the reference routes (web).
"""

from __future__ import annotations

from pathlib import Path

DECISION_TTG = """THỦ TƯỚNG CHÍNH PHỦ
-------
Số: 1658/QĐ-TTg

CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
---------------
Hà Nội, ngày 01 tháng 10 năm 2021

QUYẾT ĐỊNH
PHÊ DUYỆT CHIẾN LƯỢC QUỐC GIA VỀ TĂNG TRƯỞNG XANH GIAI ĐOẠN 2021 - 2030, TẦM NHÌN 2050

THỦ TƯỚNG CHÍNH PHỦ

Căn cứ Luật Tổ chức Chính phủ ngày 19 tháng 6 năm 2015;

Theo đề nghị của Bộ trưởng Bộ Kế hoạch và Đầu tư,

QUYẾT ĐỊNH:

Điều 1. Phê duyệt Chiến lược quốc gia về tăng trưởng xanh giai đoạn 2021 - 2030, tầm nhìn \
2050 với các mục tiêu giảm cường độ phát thải khí nhà kính và xanh hóa các ngành kinh tế.

Điều 2. Quyết định này có hiệu lực thi hành kể từ ngày ký ban hành.

Nơi nhận:
- Ban Bí thư Trung ương Đảng;
- Lưu: VT, KGVX.

KT. THỦ TƯỚNG
PHÓ THỦ TƯỚNG

Lê Văn Thành
"""

DECREE = """CHÍNH PHỦ
-------
Số: 08/2022/NĐ-CP

CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
---------------
Hà Nội, ngày 10 tháng 01 năm 2022

NGHỊ ĐỊNH
QUY ĐỊNH CHI TIẾT MỘT SỐ ĐIỀU CỦA LUẬT BẢO VỆ MÔI TRƯỜNG

Căn cứ Luật Tổ chức Chính phủ ngày 19 tháng 6 năm 2015;

Căn cứ Luật Bảo vệ môi trường ngày 17 tháng 11 năm 2020;

Chính phủ ban hành Nghị định quy định chi tiết một số điều của Luật Bảo vệ môi trường.

Chương I
QUY ĐỊNH CHUNG

Điều 1. Phạm vi điều chỉnh

Nghị định này quy định chi tiết về bảo vệ các thành phần môi trường, phân vùng môi trường, \
đánh giá tác động môi trường và quản lý chất thải rắn sinh hoạt.

Điều 2. Đối tượng áp dụng

Nghị định này áp dụng đối với cơ quan, tổ chức, cộng đồng dân cư, hộ gia đình và cá nhân.

Nơi nhận:
- Các Bộ, cơ quan ngang Bộ;
- Lưu: VT, NN.

TM. CHÍNH PHỦ
THỦ TƯỚNG

Phạm Minh Chính
"""

PLAN = """ỦY BAN NHÂN DÂN
TỈNH LÀO CAI
-------
Số: 123/KH-UBND

CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
---------------
Lào Cai, ngày 15 tháng 3 năm 2023

KẾ HOẠCH
THỰC HIỆN CHIẾN LƯỢC QUỐC GIA VỀ TĂNG TRƯỞNG XANH TRÊN ĐỊA BÀN TỈNH LÀO CAI

Căn cứ Quyết định số 1658/QĐ-TTg ngày 01/10/2021 của Thủ tướng Chính phủ phê duyệt Chiến \
lược quốc gia về tăng trưởng xanh;

Căn cứ Nghị định số 08/2022/NĐ-CP ngày 10/01/2022 của Chính phủ quy định chi tiết một số \
điều của Luật Bảo vệ môi trường;

Ủy ban nhân dân tỉnh ban hành Kế hoạch thực hiện như sau:

I. MỤC TIÊU

Giảm cường độ phát thải khí nhà kính trên GDP ít nhất 15% so với năm 2014, theo Quyết định \
số 1658/QĐ-TTg của Thủ tướng Chính phủ. Tỷ lệ che phủ rừng ổn định ở mức 60%.

II. TỔ CHỨC THỰC HIỆN

Sở Tài nguyên và Môi trường chủ trì quản lý chất thải rắn sinh hoạt theo Nghị định số \
08/2022/NĐ-CP và Thông tư số 02/2022/TT-BTNMT.

Nơi nhận:
- Bộ Kế hoạch và Đầu tư;
- Lưu: VT.

TM. ỦY BAN NHÂN DÂN
KT. CHỦ TỊCH
PHÓ CHỦ TỊCH

Hoàng Quốc Khánh
"""

DECISION_UBND = """ỦY BAN NHÂN DÂN
TỈNH ĐẮK LẮK
-------
Số: 1658/QĐ-UBND

CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
---------------
Đắk Lắk, ngày 20 tháng 7 năm 2024

QUYẾT ĐỊNH
VỀ VIỆC CÔNG BỐ DANH MỤC THỦ TỤC HÀNH CHÍNH LĨNH VỰC GIÁO DỤC

CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH ĐẮK LẮK

Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;

QUYẾT ĐỊNH:

Điều 1. Công bố kèm theo Quyết định này danh mục thủ tục hành chính lĩnh vực giáo dục và \
đào tạo thuộc thẩm quyền giải quyết của Sở Giáo dục và Đào tạo.

Điều 2. Quyết định này có hiệu lực kể từ ngày ký.

Nơi nhận:
- Như Điều 2;
- Lưu: VT.

KT. CHỦ TỊCH
PHÓ CHỦ TỊCH

Nguyễn Thiên Văn
"""

LAW = """QUỐC HỘI
-------
Luật số: 72/2020/QH14

CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
---------------
Hà Nội, ngày 17 tháng 11 năm 2020

LUẬT
BẢO VỆ MÔI TRƯỜNG

Căn cứ Hiến pháp nước Cộng hòa xã hội chủ nghĩa Việt Nam;

Quốc hội ban hành Luật Bảo vệ môi trường.

Chương I
NHỮNG QUY ĐỊNH CHUNG

Điều 1. Phạm vi điều chỉnh

Luật này quy định về hoạt động bảo vệ môi trường; quyền, nghĩa vụ và trách nhiệm của cơ \
quan, tổ chức, cộng đồng dân cư, hộ gia đình và cá nhân trong hoạt động bảo vệ môi trường.

Điều 4. Nguyên tắc bảo vệ môi trường

Bảo vệ môi trường là quyền, nghĩa vụ và trách nhiệm của mọi cơ quan, tổ chức và cá nhân.

Điều 5. Chính sách của Nhà nước về bảo vệ môi trường

Tạo thuận lợi cho cơ quan, tổ chức, cộng đồng dân cư, hộ gia đình và cá nhân tham gia thực \
hiện, kiểm tra, giám sát hoạt động bảo vệ môi trường; ưu tiên xử lý ô nhiễm và phục hồi hệ \
sinh thái tự nhiên bị suy thoái.

Điều 6. Các hành vi bị nghiêm cấm

Vận chuyển, chôn lấp, đổ thải chất thải rắn không đúng quy trình kỹ thuật về bảo vệ môi trường.
"""

CIVIL_10 = """Bộ Luật Dân sự 2015 – Điều 10. Giới hạn việc thực hiện quyền dân sự

1. Cá nhân, pháp nhân không được lạm dụng quyền dân sự của mình gây thiệt hại cho người khác.

2. Trường hợp cá nhân, pháp nhân không tuân thủ quy định tại khoản 1 Điều này thì Tòa án \
không bảo vệ một phần hoặc toàn bộ quyền của họ.
"""

CIVIL_11 = """Bộ Luật Dân sự 2015 – Điều 11. Các phương thức bảo vệ quyền dân sự

Khi quyền dân sự của một chủ thể bị xâm phạm thì chủ thể đó có quyền tự bảo vệ theo quy định \
của Bộ luật này hoặc yêu cầu cơ quan, tổ chức có thẩm quyền công nhận quyền dân sự của mình.
"""

OFFICIAL_DOCS = {
    "qd-1658-ttg.txt": DECISION_TTG,
    "nd-08-2022.txt": DECREE,
    "kh-123-lao-cai.txt": PLAN,
    "qd-1658-dak-lak.txt": DECISION_UBND,
    "luat-bvmt.txt": LAW,
    "blds__dieu-10.txt": CIVIL_10,
    "blds__dieu-11.txt": CIVIL_11,
}


def write_official_docs(folder: Path) -> Path:
    for name, text in OFFICIAL_DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
